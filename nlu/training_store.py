"""NLU training examples in the database, so every app machine edits and trains the same data.

A language's examples are seeded once from its YAML file (data/nlu.yml, data/es/nlu.yml) the
first time they are needed, inside the caller's transaction: the seed row is the claim, and a
second machine seeding at the same moment loses on its primary key and reads the winner's rows.
Examples are unique per language by their plain text, so the database refuses a duplicate even
when two machines add it at once. Functions take the session as a keyword (no Flask).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cases.admin_models import User
from cases.audit import record
from cases.models import utcnow
from cases.nlu_models import TrainingDataSeed, TrainingExample, TrainingSnapshot
from nlu.languages import DEFAULT, ROOT, lookup
from nlu.training_data import TrainingDataError, check_text, parse, plain, render, validate_yaml

DATA = ROOT / "data"
Validator = Callable[[str, str], None]  # (rendered YAML, language) -> raises TrainingDataError


@dataclass(frozen=True)
class Change:
    """One edit of an intent's examples: add `text`, edit `old` into `text`, or delete `old`."""

    action: str  # add | edit | delete
    intent: str
    text: str = ""
    old: str = ""
    language: str = DEFAULT


def rasa_validator(yaml_text: str, language: str) -> None:
    """`rasa data validate` with the language's pipeline config (seconds: never inside a write)."""
    validate_yaml(yaml_text, lookup(language).config)


def ensure_seeded(
    *, db_session: Session, language: str = DEFAULT, data_dir: Path = DATA
) -> TrainingDataSeed:
    """The language's seed row, seeding its examples from the YAML file the first time."""
    code = lookup(language).code
    seed = db_session.get(TrainingDataSeed, code)
    if seed is not None:
        return seed
    source = lookup(code).data_in(data_dir).read_text(encoding="utf-8")
    parsed = parse(source)
    try:
        with db_session.begin_nested():
            seed = TrainingDataSeed(
                language=code,
                intents=list(parsed.intents),
                extra_yaml=parsed.extra_yaml,
                source_sha256=hashlib.sha256(source.encode()).hexdigest(),
                seeded_at=utcnow(),
            )
            db_session.add(seed)
            db_session.flush()  # the claim: a concurrent seeder's insert fails here or waits
            rows = [
                {
                    "language": code,
                    "intent": intent,
                    "text": text,
                    "normalized": plain(text),
                    "position": position,
                    "created_by": "seed",
                    "created_at": seed.seeded_at,
                }
                for intent, examples in parsed.intents.items()
                for position, text in enumerate(examples)
            ]
            if rows:
                db_session.execute(insert(TrainingExample), rows)
    except IntegrityError:  # another process seeded it first; its rows are committed
        seed = db_session.get(TrainingDataSeed, code, populate_existing=True)
        if seed is None:
            raise
    return seed


def examples(
    *, db_session: Session, language: str = DEFAULT, data_dir: Path = DATA
) -> dict[str, list[str]]:
    """Every intent's examples: intents in seed order, examples in position order."""
    seed = ensure_seeded(db_session=db_session, language=language, data_dir=data_dir)
    out: dict[str, list[str]] = {intent: [] for intent in seed.intents}
    rows = db_session.execute(
        select(TrainingExample.intent, TrainingExample.text)
        .where(TrainingExample.language == seed.language)
        .order_by(TrainingExample.position, TrainingExample.id)
    )
    for intent, text in rows:
        out.setdefault(intent, []).append(text)
    return out


def find_duplicate(
    *, db_session: Session, text: str, language: str = DEFAULT, data_dir: Path = DATA
) -> str | None:
    """The intent that already has this example (ignoring case and entity markup)."""
    seed = ensure_seeded(db_session=db_session, language=language, data_dir=data_dir)
    return _intent_of(db_session, seed.language, plain(text))


def to_yaml(*, db_session: Session, language: str = DEFAULT, data_dir: Path = DATA) -> str:
    """The current examples as Rasa NLU YAML (deterministic: what a training learns from)."""
    seed = ensure_seeded(db_session=db_session, language=language, data_dir=data_dir)
    return render(
        examples(db_session=db_session, language=language, data_dir=data_dir), seed.extra_yaml
    )


def apply(
    *, db_session: Session, change: Change, actor: User | None, data_dir: Path = DATA
) -> None:
    """Make one edit inside the caller's transaction, audited; our rules, not Rasa's (see save)."""
    seed = ensure_seeded(db_session=db_session, language=change.language, data_dir=data_dir)
    code, intent, who = seed.language, change.intent, actor.username if actor else "system"
    if intent not in seed.intents:
        raise TrainingDataError(f"unknown intent {intent!r}")
    row = None
    if change.action in ("edit", "delete"):
        row = db_session.scalars(
            select(TrainingExample).where(
                TrainingExample.language == code,
                TrainingExample.intent == intent,
                TrainingExample.text == change.old,
            )
        ).first()
        if row is None:
            raise TrainingDataError(f"{intent} has no example {change.old!r} (reload the page)")
    try:
        with db_session.begin_nested():  # opened before any write: a clash rolls back just this
            _write(db_session, change, row, code, who)
            db_session.flush()
    except IntegrityError as exc:  # another machine added the same example a moment ago
        other = _intent_of(db_session, code, plain(change.text)) or "another intent"
        raise TrainingDataError(f"this example is already in {other}") from exc
    record(
        db_session=db_session,
        actor=actor,
        action=f"nlu.example.{change.action}",
        target_type="intent",
        target_id=intent,
        detail={"text": change.text, "old": change.old, "language": code},
    )


def save(
    *,
    sessions: sessionmaker[Session],
    change: Change,
    actor: User | None,
    data_dir: Path = DATA,
    validator: Validator | None = rasa_validator,
    then: Callable[[Session], None] | None = None,
) -> None:
    """Check an edit with our rules and Rasa's, then commit it (and `then`) in one transaction.

    `rasa data validate` takes seconds, so it runs on the rendered result of a rolled-back trial
    edit, outside any transaction (on SQLite every transaction holds the write lock). The commit
    repeats our rules; Rasa's verdict on one example does not depend on the others'.
    """
    if validator is not None:
        with sessions() as s, s.begin():  # seed in a short transaction of its own
            ensure_seeded(db_session=s, language=change.language, data_dir=data_dir)
        with sessions() as s:
            s.begin()
            try:
                apply(db_session=s, change=change, actor=actor, data_dir=data_dir)
                proposed = to_yaml(db_session=s, language=change.language, data_dir=data_dir)
            finally:
                s.rollback()
        validator(proposed, lookup(change.language).code)
    with sessions() as s, s.begin():
        apply(db_session=s, change=change, actor=actor, data_dir=data_dir)
        if then is not None:
            then(s)


def snapshot(
    *, db_session: Session, version_id: int, language: str = DEFAULT, data_dir: Path = DATA
) -> str:
    """Store and return the YAML a version trains on: the database's examples at this moment."""
    seed = ensure_seeded(db_session=db_session, language=language, data_dir=data_dir)
    current = examples(db_session=db_session, language=language, data_dir=data_dir)
    text = render(current, seed.extra_yaml)
    row = stored_snapshot(db_session=db_session, version_id=version_id)  # a retried training
    if row is None:
        row = TrainingSnapshot(version_id=version_id)
        db_session.add(row)
    row.language, row.yaml = seed.language, text
    row.sha256 = hashlib.sha256(text.encode()).hexdigest()
    row.examples = sum(len(rows) for rows in current.values())
    row.created_at = utcnow()
    return text


def stored_snapshot(*, db_session: Session, version_id: int) -> TrainingSnapshot | None:
    """The training data a version learned from, if it was trained from the database."""
    return db_session.scalars(
        select(TrainingSnapshot).where(TrainingSnapshot.version_id == version_id)
    ).first()


def _write(
    db_session: Session, change: Change, row: TrainingExample | None, code: str, who: str
) -> None:
    """The edit itself, after the checks that need no write."""
    if change.action == "delete":
        db_session.delete(row)
        return
    if change.action not in ("add", "edit"):
        raise TrainingDataError(f"unknown action {change.action!r}")
    cleaned = check_text(change.text)
    other = _intent_of(db_session, code, plain(cleaned), not_id=row.id if row else None)
    if other is not None:
        raise TrainingDataError(f"this example is already in {other}")
    if row is None:
        last = db_session.scalar(
            select(func.max(TrainingExample.position)).where(
                TrainingExample.language == code, TrainingExample.intent == change.intent
            )
        )
        row = TrainingExample(
            language=code,
            intent=change.intent,
            position=(last if last is not None else -1) + 1,
            created_by=who,
            created_at=utcnow(),
        )
        db_session.add(row)
    else:
        row.updated_by, row.updated_at = who, utcnow()
    row.text, row.normalized = cleaned, plain(cleaned)


def _intent_of(
    db_session: Session, language: str, normalized: str, not_id: int | None = None
) -> str | None:
    query = select(TrainingExample.intent).where(
        TrainingExample.language == language, TrainingExample.normalized == normalized
    )
    if not_id is not None:
        query = query.where(TrainingExample.id != not_id)
    return db_session.scalars(query).first()
