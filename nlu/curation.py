"""Training candidates: low-confidence and flagged turns, accepted into the data or discarded."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import TrainingCandidate, Turn, User, utcnow
from cases.redact import redact
from nlu.training_data import TrainingData, plain

LOW_CONFIDENCE = 0.6


def sync_low_confidence(*, db_session: Session, days: int = 30, limit: int = 500) -> int:
    """Turn recent low-confidence turns into pending candidates (once each); returns how many."""
    since = utcnow() - timedelta(days=days)
    turns = db_session.scalars(
        select(Turn)
        .where(
            Turn.received_at >= since,
            Turn.intent.is_not(None),
            Turn.text != "",
            or_(Turn.confidence < LOW_CONFIDENCE, Turn.intent == "nlu_fallback"),
            ~exists().where(TrainingCandidate.turn_id == Turn.id),
        )
        .order_by(Turn.received_at.desc(), Turn.id.desc())  # walks ix_turns_received_at
        .limit(limit)
    ).all()
    for turn in turns:
        suggested = turn.intent if turn.intent != "nlu_fallback" else _best_guess(turn)
        db_session.add(
            TrainingCandidate(
                turn_id=turn.id,
                text=turn.text,
                predicted_intent=turn.intent,
                suggested_intent=suggested,
                source="low_confidence",
                status="pending",
            )
        )
    db_session.flush()
    return len(turns)


def _best_guess(turn: Turn) -> str | None:
    """For a fallback turn: the classifier's own first choice, as a suggestion to confirm."""
    ranked = [r.get("name") for r in turn.ranking or [] if r.get("name") != "nlu_fallback"]
    return str(ranked[0]) if ranked else None


def pending(*, db_session: Session, limit: int = 200) -> list[TrainingCandidate]:
    """Pending candidates, flagged ones first, newest first."""
    return list(
        db_session.scalars(
            select(TrainingCandidate)
            .where(TrainingCandidate.status == "pending")
            .order_by((TrainingCandidate.source == "flagged").desc(), TrainingCandidate.id.desc())
            .limit(limit)
        )
    )


def duplicates(candidates: list[TrainingCandidate], data: TrainingData) -> dict[int, str]:
    """Candidate id -> the intent that already has the same example."""
    index = {plain(e): intent for intent, examples in data.examples().items() for e in examples}
    return {c.id: index[plain(c.text)] for c in candidates if plain(c.text) in index}


def add_to_data(candidate: TrainingCandidate, intent: str, data: TrainingData) -> None:
    """Write the (redacted) text into the training file; call outside any database transaction.

    The file edit runs `rasa data validate` (seconds): holding a write transaction meanwhile
    would stall the webhooks. An example already there under the same intent counts as done.
    """
    if data.find_duplicate(candidate.text) == intent:
        return
    data.add(intent, redact(candidate.text))


def mark_accepted(
    *,
    db_session: Session,
    candidate: TrainingCandidate,
    intent: str,
    user: User,
    now: datetime | None = None,
) -> None:
    """Record that the candidate became an example of `intent` (relabelled if it differs)."""
    candidate.status = "accepted" if intent == candidate.suggested_intent else "relabelled"
    candidate.suggested_intent = intent
    candidate.resolved_at, candidate.resolved_by = now or utcnow(), user.username
    record(
        db_session=db_session,
        actor=user,
        action=f"candidate.{candidate.status}",
        target_type="training_candidate",
        target_id=candidate.id,
        detail={"intent": intent},
    )


def discard(
    *, db_session: Session, candidate: TrainingCandidate, user: User, now: datetime | None = None
) -> None:
    """Drop a candidate."""
    candidate.status = "discarded"
    candidate.resolved_at, candidate.resolved_by = now or utcnow(), user.username
    record(
        db_session=db_session,
        actor=user,
        action="candidate.discard",
        target_type="training_candidate",
        target_id=candidate.id,
    )
