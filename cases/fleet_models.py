"""The NLU fleet in the store: the wanted model version per language, and each Rasa replica.

Activation writes the wanted version (`NluTarget`); a reconciler on every app machine loads it
into that machine's replicas and reports each one here (`RasaReplica`), so every machine, the
console and /metrics see the same rollout.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, utcnow


class NluTarget(Base):
    """The model version a language's replicas should serve (desired state), and since when."""

    __tablename__ = "nlu_targets"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))  # the rollout, if any
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RasaReplica(Base):
    """One Rasa server of one machine: which version it serves and whether it takes parses.

    `state`: serving | draining (out of rotation, finishing parses) | loading | failed | down.
    Only `serving` replicas get parses. `seen_at` is the reconciler's heartbeat: a replica not
    seen for a while belongs to a machine that is gone and no longer holds up a rollout.
    """

    __tablename__ = "rasa_replicas"

    id: Mapped[int] = mapped_column(primary_key=True)
    machine: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    version_id: Mapped[int | None]  # the version it serves, if known
    state: Mapped[str] = mapped_column(String(16), default="serving")
    error: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("machine", "url", name="uq_rasa_replicas_machine_url"),)
