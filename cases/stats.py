"""Numbers for the dashboard: cases per service per day, handoff rate, low confidence, closing,
and whether what was closed as fixed was fixed ("Is it fixed?" answers, reopenings, ratings)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.enums import OPEN_STATUSES, CaseStatus, Resolution
from cases.models import Case, CaseEvent, Conversation, FixCheck, Turn, utcnow
from cases.review import LOW_CONFIDENCE


@dataclass
class Outcomes:
    """Whether closing as fixed fixed it, for one service or agency (or all of them).

    reopen rate: of the closings as fixed by staff, the share later reopened (by a resident's
    "no" or "partly", or by staff); linked reports closed with a case are not counted again.
    confirmed share: of the "Was it fixed?" questions answered, the share answered yes.
    """

    closed_fixed: int = 0
    reopened: int = 0
    answered: int = 0
    confirmed: int = 0
    ratings: list[int] = field(default_factory=list)

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.closed_fixed if self.closed_fixed else None

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.answered if self.answered else None

    @property
    def median_rating(self) -> float | None:
        return statistics.median(self.ratings) if self.ratings else None


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
    # "Is it fixed?" for the cases filed in the window, by service name and by agency
    outcomes_by_service: dict[str, Outcomes] = field(default_factory=dict)
    outcomes_by_agency: dict[str, Outcomes] = field(default_factory=dict)
    outcomes: Outcomes = field(default_factory=Outcomes)
    reopened_now: int = 0  # cases in the reopened status now, whenever filed
    on_time: OnTime | None = None  # closed by the due date, for the cases due lately
    oldest_open: list[Case] = field(default_factory=list)  # the 10 oldest open cases


@dataclass
class OnTime:
    """Of the cases due in each week (closed or not), the share closed by their due date."""

    weeks: list[str]  # the first day of each week, oldest first
    share: list[float | None]  # all cases, per week
    by_agency: dict[str, list[float | None]]  # per week
    by_service: dict[str, float | None]  # over the whole window
    agency_total: dict[str, float | None]  # over the whole window
    counted: int = 0


def on_time(*, db_session: Session, now: datetime, weeks: int = 8) -> OnTime:
    """Closed on time, for the cases whose due date fell in the last `weeks` weeks.

    One query bounded by the window on `cases.due_datetime` (indexed): a case not closed by
    its due date counts as late whether it is closed since or still open.
    """
    first = (now - timedelta(weeks=weeks)).date()
    first -= timedelta(days=first.weekday())  # a Monday
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    week_starts = [first + timedelta(weeks=i) for i in range(weeks + 1)]
    rows = db_session.execute(
        select(
            Case.service_name, Case.agency_responsible, Case.due_datetime, Case.closed_datetime
        ).where(Case.due_datetime >= since, Case.due_datetime < now)
    ).all()
    per_week: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in week_starts])
    per_service: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_agency: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for service, agency, due, closed in rows:
        week = min((due.date() - first).days // 7, weeks)
        ok = closed is not None and closed <= due
        for cell in (per_week[""][week], per_week[agency][week], per_service[service]):
            cell[0] += ok
            cell[1] += 1
        per_agency[agency][0] += ok
        per_agency[agency][1] += 1

    def share(cell: list[int]) -> float | None:
        return cell[0] / cell[1] if cell[1] else None

    total = per_week.pop("", [[0, 0] for _ in week_starts])
    return OnTime(
        weeks=[d.isoformat() for d in week_starts],
        share=[share(c) for c in total],
        by_agency={a: [share(c) for c in cells] for a, cells in sorted(per_week.items())},
        by_service={name: share(c) for name, c in sorted(per_service.items())},
        agency_total={name: share(c) for name, c in sorted(per_agency.items())},
        counted=len(rows),
    )


def oldest_open(*, db_session: Session, limit: int = 10) -> list[Case]:
    """The longest-open cases, oldest first (the requested_datetime index, read in order)."""
    return list(
        db_session.scalars(
            select(Case)
            .where(Case.status.in_(OPEN_STATUSES))
            .order_by(Case.requested_datetime, Case.id)
            .limit(limit)
        )
    )


def outcomes(
    *, db_session: Session, since: datetime
) -> tuple[dict[str, Outcomes], dict[str, Outcomes], Outcomes]:
    """Outcomes of the cases filed since then: by service name, by agency, and in all.

    Two queries, each bounded by the window's cases (cases.requested_datetime is indexed, and
    case_events and fix_checks are reached through their case_id indexes).
    """
    by_service: dict[str, Outcomes] = defaultdict(Outcomes)
    by_agency: dict[str, Outcomes] = defaultdict(Outcomes)
    total = Outcomes()
    window_cases = select(Case.id).where(Case.requested_datetime >= since).scalar_subquery()
    events = db_session.execute(
        select(
            CaseEvent.case_id,
            CaseEvent.id,
            CaseEvent.to_status,
            CaseEvent.resolution,
            CaseEvent.actor_name,
            Case.service_name,
            Case.agency_responsible,
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.case_id.in_(window_cases),
            CaseEvent.kind == "status",
            CaseEvent.to_status.in_((CaseStatus.CLOSED, CaseStatus.REOPENED)),
        )
    ).all()
    fixed_open: dict[int, bool] = {}  # case id -> closed as fixed and not reopened since
    events.sort(key=lambda row: (row.case_id, row.id))  # sorted here: SQL would scan for it
    for case_id, _, to_status, resolution, actor, service, agency in events:
        figures = (by_service[service], by_agency[agency], total)
        if to_status == CaseStatus.CLOSED:
            fixed = resolution == Resolution.FIXED and actor != "linked"
            fixed_open[case_id] = fixed
            for f in figures:
                f.closed_fixed += fixed
        elif fixed_open.pop(case_id, False):
            for f in figures:
                f.reopened += 1
    answers = db_session.execute(
        select(FixCheck.answer, FixCheck.rating, Case.service_name, Case.agency_responsible)
        .join(Case, Case.id == FixCheck.case_id)
        .where(FixCheck.case_id.in_(window_cases), FixCheck.answer.is_not(None))
    )
    for answer, rating, service, agency in answers:
        for f in (by_service[service], by_agency[agency], total):
            f.answered += 1
            f.confirmed += answer == "yes"
            if rating is not None:
                f.ratings.append(rating)
    return dict(sorted(by_service.items())), dict(sorted(by_agency.items())), total


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
    fixed_by_service, fixed_by_agency, fixed_total = outcomes(db_session=db_session, since=since)
    reopened_now = db_session.scalar(
        select(func.count()).select_from(Case).where(Case.status == CaseStatus.REOPENED)
    )
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
        outcomes_by_service=fixed_by_service,
        outcomes_by_agency=fixed_by_agency,
        outcomes=fixed_total,
        reopened_now=int(reopened_now or 0),
        on_time=on_time(db_session=db_session, now=now),
        oldest_open=oldest_open(db_session=db_session),
    )
