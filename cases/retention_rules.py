"""Retention rules: what each kind of data's rule selects, and what it does to those rows.

Each rule is a selector (the ids whose time is up, or None when the rule is switched off) and
an applier (redact, blank or delete those rows, inside the caller's transaction). The job in
cases/retention.py runs them in order, batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from cases.admin_models import LoginAttempt
from cases.artifacts import open_store
from cases.login_limits import PAIR_MEMORY, WINDOW
from cases.media_models import Photo
from cases.models import Case, Conversation, OutboundMessage, Turn
from cases.nlu_models import ModelVersion, TrainingCandidate
from cases.photos import delete_photos

LOGIN_LIMIT_WINDOW = max(WINDOW, PAIR_MEMORY)  # what the sign-in limiter still reads

ACTOR = "retention"
NO_SYNC = {"synchronize_session": False}
KINDS = (
    "conversations_closed_idle",
    "transcripts_redacted",
    "conversations_deleted",
    "turns_deleted",
    "outbound_blanked",
    "login_attempts_deleted",
    "candidates_deleted",
    "model_versions_pruned",
)


def _days(age: timedelta | None) -> float | None:
    return None if age is None else round(age / timedelta(days=1), 3)


@dataclass(frozen=True)
class Policy:
    """How long each kind of data is kept (None: for ever); defaults as in docs/retention.md."""

    transcripts: timedelta | None = timedelta(days=90)
    conversations: timedelta | None = timedelta(days=365)
    outbound: timedelta | None = timedelta(days=30)
    login_attempts: timedelta | None = timedelta(hours=24)
    candidates: timedelta | None = timedelta(days=180)
    model_versions: int = 5  # newest trained versions that keep their files; 0: all do
    batch_size: int = 500

    def describe(self) -> dict[str, float | int | None]:
        """The policy as the audit entry records it (ages in days)."""
        return {
            "transcripts_days": _days(self.transcripts),
            "conversations_days": _days(self.conversations),
            "outbound_days": _days(self.outbound),
            "login_attempts_days": _days(self.login_attempts),
            "candidates_days": _days(self.candidates),
            "model_versions": self.model_versions,
        }


# --- what each step selects (None: the rule is switched off) and what it does to those rows


def _no_open_case() -> ColumnElement[bool]:
    """A conversation whose case is still open is kept whole: it is that case's evidence."""
    return ~exists().where(Case.conversation_id == Conversation.id, Case.status != "closed")


def _idle_conditions(now: datetime, policy: Policy) -> list[ColumnElement[bool]] | None:
    ages = [age for age in (policy.transcripts, policy.conversations) if age]
    if not ages:
        return None
    return [Conversation.status == "active", Conversation.last_activity_at < now - min(ages)]


def _idle(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Conversations still 'active' long after their last message (the resident never returned)."""
    conditions = _idle_conditions(now, policy)
    return None if conditions is None else select(Conversation.id).where(*conditions)


def _close_idle(db_session: Session, ids: list[int], now: datetime, policy: Policy) -> int:
    """Close them as of their last message, re-checking that no message came meanwhile."""
    db_session.execute(
        update(Conversation)
        .where(Conversation.id.in_(ids), *(_idle_conditions(now, policy) or []))
        .values(status="closed", ended_at=Conversation.last_activity_at, end_reason="idle")
        .execution_options(**NO_SYNC)
    )
    return 0


def _unredacted(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Closed conversations past the transcript age whose texts are still there."""
    if policy.transcripts is None:
        return None
    return select(Conversation.id).where(
        Conversation.status == "closed",
        Conversation.redacted_at.is_(None),
        Conversation.ended_at < now - policy.transcripts,
        _no_open_case(),
    )


def _caseless_photos(db_session: Session, ids: list[int]) -> None:
    """Photos texted in these conversations that no case has: deleted, bytes and all.

    They are the resident's, like the transcript (an emergency's, a dropped report's); a case's
    photos are its evidence and stay with it.
    """
    found = db_session.scalars(
        select(Photo.id).where(Photo.conversation_id.in_(ids), Photo.case_id.is_(None))
    )
    delete_photos(db_session=db_session, ids=list(found))


def _redact(db_session: Session, ids: list[int], now: datetime, policy: Policy) -> int:
    """Blank what residents said and the bot answered; keep intents and times for statistics."""
    _caseless_photos(db_session, ids)
    turn_ids = select(Turn.id).where(Turn.conversation_id.in_(ids))
    statements = [
        update(Turn)
        .where(Turn.conversation_id.in_(ids))
        .values(text="", reply="", entities=[], nlu_error=None),
        # a training candidate quotes its turn: blanked too, and a pending one can no longer
        # be judged, so it expires (then ages out like any resolved candidate)
        update(TrainingCandidate)
        .where(TrainingCandidate.turn_id.in_(turn_ids), TrainingCandidate.status == "pending")
        .values(status="expired", resolved_at=now, resolved_by=ACTOR),
        update(TrainingCandidate).where(TrainingCandidate.turn_id.in_(turn_ids)).values(text=""),
        update(Conversation)
        .where(Conversation.id.in_(ids))
        .values(state={}, sender="", redacted_at=now),
    ]
    for statement in statements:
        db_session.execute(statement.execution_options(**NO_SYNC))
    return 0


def expired(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Closed conversations past the conversation age (unless their case is still open)."""
    if policy.conversations is None:
        return None
    return select(Conversation.id).where(
        Conversation.status == "closed",
        Conversation.ended_at < now - policy.conversations,
        _no_open_case(),
    )


def _delete_conversations(
    db_session: Session, ids: list[int], now: datetime, policy: Policy
) -> int:
    """Delete conversations and their turns; cases, their photos and outbound rows stay,
    unlinked."""
    turn_ids = select(Turn.id).where(Turn.conversation_id.in_(ids))
    db_session.execute(
        delete(TrainingCandidate)
        .where(TrainingCandidate.turn_id.in_(turn_ids))
        .execution_options(**NO_SYNC)
    )
    _caseless_photos(db_session, ids)
    for model in (Case, OutboundMessage, Photo):
        db_session.execute(
            update(model)
            .where(model.conversation_id.in_(ids))
            .values(conversation_id=None)
            .execution_options(**NO_SYNC)
        )
    turns = db_session.execute(
        delete(Turn).where(Turn.conversation_id.in_(ids)).execution_options(**NO_SYNC)
    )
    db_session.execute(
        delete(Conversation).where(Conversation.id.in_(ids)).execution_options(**NO_SYNC)
    )
    return int(turns.rowcount)  # type: ignore[attr-defined]


def _sent_long_ago(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Outbound texts sent (or given up on) past the outbound age, number and body still there.

    A failed text has no time of failure; it gives up within minutes of being queued, so its
    queueing time stands in. sent_at >= created_at, so the created_at range is a safe bound.
    """
    if policy.outbound is None:
        return None
    cutoff = now - policy.outbound
    return select(OutboundMessage.id).where(
        OutboundMessage.redacted_at.is_(None),
        OutboundMessage.created_at < cutoff,
        OutboundMessage.status.in_(("sent", "failed")),
        or_(OutboundMessage.sent_at.is_(None), OutboundMessage.sent_at < cutoff),
    )


def _blank_outbound(db_session: Session, ids: list[int], now: datetime, policy: Policy) -> int:
    """Blank the phone number, the text and the provider's error (it may quote the number)."""
    db_session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids))
        .values(to="", body="", last_error=None, redacted_at=now)
        .execution_options(**NO_SYNC)
    )
    return 0


def _old_attempts(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Sign-in attempts older than the policy, and always older than the limiter's window."""
    if policy.login_attempts is None:
        return None
    return select(LoginAttempt.id).where(
        LoginAttempt.at < now - max(policy.login_attempts, LOGIN_LIMIT_WINDOW)
    )


def _old_candidates(
    db_session: Session, now: datetime, policy: Policy
) -> Select[tuple[int]] | None:
    """Training candidates resolved (accepted, relabelled, discarded, expired) long ago."""
    if policy.candidates is None:
        return None
    return select(TrainingCandidate.id).where(
        TrainingCandidate.resolved_at < now - policy.candidates,
        TrainingCandidate.status != "pending",
    )


def _delete_by_id(model: Any) -> Callable[[Session, list[int], datetime, Policy], int]:
    def apply(db_session: Session, ids: list[int], now: datetime, policy: Policy) -> int:
        db_session.execute(delete(model).where(model.id.in_(ids)).execution_options(**NO_SYNC))
        return 0

    return apply


def _old_versions(db_session: Session, now: datetime, policy: Policy) -> Select[tuple[int]] | None:
    """Per language, versions older than its Nth newest trained one, except the active ones.

    Counted per language, so a run of English trainings never prunes every Spanish version a
    rollback could go back to.
    """
    if policy.model_versions <= 0:
        return None
    older = []
    for language in db_session.scalars(select(ModelVersion.language).distinct()).all():
        nth = db_session.scalar(
            select(ModelVersion.id)
            .where(ModelVersion.status == "trained", ModelVersion.language == language)
            .order_by(ModelVersion.id.desc())
            .offset(policy.model_versions - 1)
            .limit(1)
        )
        if nth is not None:
            older.append(and_(ModelVersion.language == language, ModelVersion.id < nth))
    if not older:
        return None
    return select(ModelVersion.id).where(
        or_(*older),
        ModelVersion.active.is_(False),
        ModelVersion.status.in_(("trained", "failed")),
        ModelVersion.files_deleted_at.is_(None),
    )


def _prune_versions(db_session: Session, ids: list[int], now: datetime, policy: Policy) -> int:
    """Mark the rows (activation then refuses them) and delete their models from the artifact
    store in the same transaction; this machine's folders and cached copies go after the commit."""
    keys = list(
        db_session.scalars(
            select(ModelVersion.model_path).where(
                ModelVersion.id.in_(ids),
                ModelVersion.active.is_(False),
                ModelVersion.model_path.is_not(None),
            )
        )
    )
    store = open_store(db_session)
    for key in keys:
        store.delete(str(key))
    db_session.execute(
        update(ModelVersion)
        .where(ModelVersion.id.in_(ids), ModelVersion.active.is_(False))
        .values(files_deleted_at=now, model_path=None, log_path=None)
        .execution_options(**NO_SYNC)
    )
    return 0


Selector = Callable[[Session, datetime, Policy], "Select[tuple[int]] | None"]
Applier = Callable[[Session, list[int], datetime, Policy], int]
STEPS: list[tuple[str, Selector, Applier, str]] = [
    # (count, selector, applier, count of the rows the applier reports, if any)
    ("conversations_closed_idle", _idle, _close_idle, ""),
    ("transcripts_redacted", _unredacted, _redact, ""),
    ("conversations_deleted", expired, _delete_conversations, "turns_deleted"),
    ("outbound_blanked", _sent_long_ago, _blank_outbound, ""),
    ("login_attempts_deleted", _old_attempts, _delete_by_id(LoginAttempt), ""),
    ("candidates_deleted", _old_candidates, _delete_by_id(TrainingCandidate), ""),
    ("model_versions_pruned", _old_versions, _prune_versions, ""),
]
