"""The NLU's training data, candidates from real turns, and the model versions trained on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, utcnow


class TrainingCandidate(Base):
    """A turn proposed as a training example: flagged as misclassified, or low confidence."""

    __tablename__ = "training_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)  # redacted, as stored in the turn
    predicted_intent: Mapped[str | None] = mapped_column(String(64))
    suggested_intent: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # flagged | low_confidence
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    flagged_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class ModelVersion(Base):
    """A trained NLU model: its data fingerprint, who trained it, its evaluation, if active."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    # queued | training | trained | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent of epochs
    epochs: Mapped[int | None]
    model_path: Mapped[str | None] = mapped_column(String(1024))  # an artifact key, not a path
    log_path: Mapped[str | None] = mapped_column(String(1024))
    train_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    macro_f1: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per-intent P/R/F1, predictions
    evaluated_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    files_deleted_at: Mapped[datetime | None]  # model folder removed by the retention job
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    __table_args__ = (Index("ix_model_versions_status", "status"),)


class TrainingExample(Base):
    """One NLU training example (Rasa entity markup kept), shared by every app machine.

    `normalized` is the text without markup, lower-cased, spaces collapsed: unique per language,
    so the same example can never sit under two intents, even when two machines add it at once.
    """

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600))
    position: Mapped[int] = mapped_column(Integer)  # order within the intent
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("language", "normalized", name="uq_training_examples_language_normalized"),
        Index("ix_training_examples_language_intent", "language", "intent", "position"),
    )


class TrainingDataSeed(Base):
    """A language's training data was seeded from its YAML file (the row is the seeding claim).

    `intents` keeps the file's intent order; `extra_yaml` its non-intent blocks (regexes,
    lookups, synonyms) verbatim, so the YAML rendered from the database is complete.
    """

    __tablename__ = "training_data_seeds"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    intents: Mapped[list[Any]] = mapped_column(default=list)
    extra_yaml: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    seeded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingSnapshot(Base):
    """The exact Rasa NLU YAML a model version was trained on, taken when its training started."""

    __tablename__ = "training_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    yaml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    examples: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
