"""Training candidates: low-confidence and flagged turns, accepted into the data or discarded."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from cases.admin_models import User
from cases.audit import record
from cases.models import Turn, utcnow
from cases.nlu_models import TrainingCandidate, TrainingExample
from cases.redact import redact
from nlu import training_store
from nlu.training_data import TrainingDataError, plain
from nlu.training_store import DATA, Change, Validator, rasa_validator

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


def duplicates(
    *, db_session: Session, candidates: list[TrainingCandidate], data_dir: Path = DATA
) -> dict[int, str]:
    """Candidate id -> the intent that already has the same example."""
    wanted = {c.id: plain(c.text) for c in candidates}
    if not wanted:
        return {}
    seed = training_store.ensure_seeded(db_session=db_session, data_dir=data_dir)
    index = dict(
        db_session.execute(
            select(TrainingExample.normalized, TrainingExample.intent).where(
                TrainingExample.language == seed.language,
                TrainingExample.normalized.in_(set(wanted.values())),
            )
        ).all()
    )
    return {cid: index[text] for cid, text in wanted.items() if text in index}


def accept(
    *,
    sessions: sessionmaker[Session],
    candidate_id: int,
    intent: str,
    user: User,
    data_dir: Path = DATA,
    validator: Validator | None = rasa_validator,
) -> None:
    """Add the (redacted) text to the training data and mark the candidate, in one transaction.

    `rasa data validate` runs before that transaction (seconds; see training_store.save). An
    example already there under the same intent counts as added.
    """
    with sessions() as s, s.begin():
        candidate = s.get(TrainingCandidate, candidate_id)
        if candidate is None:
            raise TrainingDataError("no such candidate (reload the page)")
        text = redact(candidate.text)
        known = training_store.find_duplicate(db_session=s, text=text, data_dir=data_dir)

    def mark(db_session: Session) -> None:
        mark_accepted(
            db_session=db_session,
            candidate=db_session.get(TrainingCandidate, candidate_id),  # type: ignore[arg-type]
            intent=intent,
            user=user,
        )

    if known == intent:
        with sessions() as s, s.begin():
            mark(s)
        return
    training_store.save(
        sessions=sessions,
        change=Change("add", intent, text),
        actor=user,
        data_dir=data_dir,
        validator=validator,
        then=mark,
    )


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
