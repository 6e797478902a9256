"""Background jobs, their runs, and the locks that keep one of a kind running across machines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, utcnow


class JobRun(Base):
    """A background job's lock and last run: one row per job, claimed by a conditional UPDATE."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None]  # a lease: a holder that died frees it by then
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(Base):
    """Slow or risky admin work run outside web requests (activate, train, evaluate), as recorded.

    `lease` is a fencing token: it goes up whenever a process starts or takes over the job, and
    every write by the runner is conditional on it, so a runner that was presumed dead and then
    wakes up cannot overwrite what its successor did.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # activate | train | evaluate
    target_id: Mapped[int | None]  # the model version it works on
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    lock_name: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    lease: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # intent, recorded up front
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. state per replica
    result: Mapped[str | None] = mapped_column(Text)  # what happened, in words
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_jobs_kind_status", "kind", "status"),)


class JobLock(Base):
    """A named lock in the store, held by one job, claimed by a conditional UPDATE (any machine)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    claimed_at: Mapped[datetime | None]
