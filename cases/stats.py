"""Numbers for the dashboard: cases per service per day, handoff rate, low confidence, closing."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Case, Conversation, Turn, utcnow
from cases.review import LOW_CONFIDENCE


@dataclass
class Dashboard:
    """The dashboard's series over the last `days` days."""

    days: list[str]
    cases_by_service: dict[str, list[float]]
    handoff_rate: list[float | None]
    low_confidence_share: list[float | None]
    hours_to_close: dict[str, float | None]
    totals: dict[str, float]
    # language -> how many conversations started and cases filed in the window
    conversations_by_language: dict[str, int] = field(default_factory=dict)
    cases_by_language: dict[str, int] = field(default_factory=dict)


def dashboard(*, db_session: Session, days: int = 14, now: datetime | None = None) -> Dashboard:
    """Compute the dashboard (one pass over the window's rows)."""
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    day_list = [first + timedelta(days=i) for i in range(days)]
    index = {d: i for i, d in enumerate(day_list)}

    by_service: dict[str, list[float]] = defaultdict(lambda: [0.0] * days)
    closing: dict[str, list[float]] = defaultdict(list)
    rows = db_session.execute(
        select(
            Case.service_name,
            Case.requested_datetime,
            Case.status,
            Case.updated_datetime,
            Case.language,
        ).where(Case.requested_datetime >= since)
    ).all()
    case_language: Counter[str] = Counter()
    for name, requested, status, updated, language in rows:
        case_language[language] += 1
        if (i := index.get(requested.date())) is not None:
            by_service[name][i] += 1
        if status == "closed":
            closing[name].append((updated - requested).total_seconds() / 3600)

    conv_total: Counter[date] = Counter()
    conv_handoff: Counter[date] = Counter()
    conv_language: Counter[str] = Counter()
    for started, handoff, language in db_session.execute(
        select(Conversation.started_at, Conversation.handoff_status, Conversation.language).where(
            Conversation.started_at >= since
        )
    ):
        conv_language[language] += 1
        conv_total[started.date()] += 1
        conv_handoff[started.date()] += handoff != "none"

    turn_total: Counter[date] = Counter()
    turn_low: Counter[date] = Counter()
    for received, intent, confidence in db_session.execute(
        select(Turn.received_at, Turn.intent, Turn.confidence).where(
            Turn.received_at >= since, Turn.intent.is_not(None)
        )
    ):
        turn_total[received.date()] += 1
        turn_low[received.date()] += intent == "nlu_fallback" or (confidence or 0) < LOW_CONFIDENCE

    def rate(part: Counter[date], whole: Counter[date]) -> list[float | None]:
        return [part[d] / whole[d] if whole[d] else None for d in day_list]

    all_hours = [h for hours in closing.values() for h in hours]
    return Dashboard(
        days=[d.isoformat() for d in day_list],
        cases_by_service=dict(sorted(by_service.items())),
        handoff_rate=rate(conv_handoff, conv_total),
        low_confidence_share=rate(turn_low, turn_total),
        hours_to_close={name: statistics.median(h) for name, h in sorted(closing.items())},
        totals={
            "cases": float(len(rows)),
            "conversations": float(sum(conv_total.values())),
            "handoff_rate": sum(conv_handoff.values()) / max(sum(conv_total.values()), 1),
            "low_confidence_share": sum(turn_low.values()) / max(sum(turn_total.values()), 1),
            "median_hours_to_close": statistics.median(all_hours) if all_hours else -1.0,
        },
        conversations_by_language=dict(sorted(conv_language.items())),
        cases_by_language=dict(sorted(case_language.items())),
    )
