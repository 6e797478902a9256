"""Finding conversations and cases for review, and flagging misclassified turns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from cases.admin_models import User
from cases.audit import record
from cases.enums import OPEN_STATUSES
from cases.models import Case, Conversation, Turn, utcnow
from cases.nlu_models import TrainingCandidate

T = TypeVar("T")
LOW_CONFIDENCE = 0.6
PAGE_SIZE = 50


@dataclass
class ConversationFilters:
    """What the supervisor asked for on the conversation list."""

    channel: str = ""
    language: str = ""
    start: datetime | None = None
    end: datetime | None = None
    intent: str = ""
    handed_off: bool = False
    low_confidence: bool = False
    has_case: bool = False
    search: str = ""
    page: int = 1


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def conversation_query(filters: ConversationFilters) -> Select[tuple[Conversation]]:
    """The filtered conversation query (newest activity first)."""
    query = select(Conversation)
    if filters.channel:
        query = query.where(Conversation.channel == filters.channel)
    if filters.language:
        query = query.where(Conversation.language == filters.language)
    if filters.start:
        query = query.where(Conversation.started_at >= filters.start)
    if filters.end:
        query = query.where(Conversation.started_at < filters.end)
    if filters.handed_off:
        query = query.where(Conversation.handoff_status != "none")
    turn_conditions = []
    if filters.intent:
        turn_conditions.append(Turn.intent == filters.intent)
    if filters.low_confidence:
        turn_conditions.append(or_(Turn.confidence < LOW_CONFIDENCE, Turn.intent == "nlu_fallback"))
    if filters.search:
        pattern = _like(filters.search)
        turn_conditions.append(
            or_(
                func.lower(Turn.text).like(pattern, escape="\\"),
                func.lower(Turn.reply).like(pattern, escape="\\"),
            )
        )
    for condition in turn_conditions:
        query = query.where(
            exists().where(and_(Turn.conversation_id == Conversation.id, condition))
        )
    if filters.has_case:
        query = query.where(exists().where(Case.conversation_id == Conversation.id))
    return query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())


def list_conversations(
    *, db_session: Session, filters: ConversationFilters
) -> tuple[list[Conversation], bool]:
    """One page of conversations and whether there is a next page."""
    return _page(db_session, conversation_query(filters), filters.page)


def _page(db_session: Session, query: Select[tuple[T]], page: int) -> tuple[list[T], bool]:
    """One page of a query's rows and whether there is a next page (one extra row tells)."""
    offset = (max(page, 1) - 1) * PAGE_SIZE
    rows = list(db_session.scalars(query.offset(offset).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def turn_summaries(*, db_session: Session, ids: list[int]) -> dict[int, dict[str, object]]:
    """Per conversation: turn count, first message, lowest confidence, case count."""
    if not ids:
        return {}
    stats = db_session.execute(
        select(Turn.conversation_id, func.count(), func.min(Turn.confidence), func.min(Turn.id))
        .where(Turn.conversation_id.in_(ids))
        .group_by(Turn.conversation_id)
    ).all()
    firsts = dict(
        db_session.execute(
            select(Turn.id, Turn.text).where(Turn.id.in_([row[3] for row in stats]))
        ).all()
    )
    cases = dict(
        db_session.execute(
            select(Case.conversation_id, func.count())
            .where(Case.conversation_id.in_(ids))
            .group_by(Case.conversation_id)
        ).all()
    )
    return {
        conv_id: {
            "turns": n,
            "min_confidence": low,
            "first": firsts.get(first, ""),
            "cases": cases.get(conv_id, 0),
        }
        for conv_id, n, low, first in stats
    }


@dataclass
class CaseFilters:
    """What the supervisor asked for on the case list."""

    service_code: str = ""
    status: str = ""
    agency: str = ""
    language: str = ""
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    # "overdue": open and past due; "today": open and due within [today_start, today_end)
    due: str = ""
    now: datetime | None = None
    today: tuple[datetime, datetime] | None = None  # the city's local day, UTC bounds


DUE_FILTERS = ("overdue", "today")


def list_cases(*, db_session: Session, filters: CaseFilters) -> tuple[list[Case], bool]:
    """One page of cases (newest first) and whether there is a next page."""
    query = select(Case).where(Case.service_request_id.is_not(None))
    if filters.service_code:
        query = query.where(Case.service_code == filters.service_code)
    if filters.status == "open":  # any status but closed
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Case.status == filters.status)
    if filters.agency:
        query = query.where(Case.agency_responsible == filters.agency)
    if filters.language:
        query = query.where(Case.language == filters.language)
    if filters.start:
        query = query.where(Case.requested_datetime >= filters.start)
    if filters.end:
        query = query.where(Case.requested_datetime < filters.end)
    if filters.due == "overdue":
        query = query.where(
            Case.status.in_(OPEN_STATUSES), Case.due_datetime < (filters.now or utcnow())
        )
    elif filters.due == "today" and filters.today:
        start, end = filters.today
        query = query.where(
            Case.status.in_(OPEN_STATUSES), Case.due_datetime >= start, Case.due_datetime < end
        )
    query = query.order_by(Case.requested_datetime.desc(), Case.id.desc())
    return _page(db_session, query, filters.page)


def flag_turn(
    *, db_session: Session, turn: Turn, intent: str, user: User, now: datetime | None = None
) -> TrainingCandidate:
    """Mark a turn as misclassified with the right intent: a training candidate for admins."""
    now = now or utcnow()
    candidate = db_session.scalars(
        select(TrainingCandidate).where(TrainingCandidate.turn_id == turn.id)
    ).first()
    if candidate is None:
        candidate = TrainingCandidate(
            turn_id=turn.id, text=turn.text, predicted_intent=turn.intent, created_at=now
        )
        db_session.add(candidate)
    candidate.suggested_intent = intent
    candidate.source = "flagged"
    candidate.status = "pending"
    candidate.flagged_by = user.username
    record(
        db_session=db_session,
        actor=user,
        action="turn.flag",
        target_type="turn",
        target_id=turn.id,
        now=now,
        detail={"predicted": turn.intent, "suggested": intent},
    )
    db_session.flush()
    return candidate
