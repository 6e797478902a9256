"""Job locks in the database: one row per job, claimed by a conditional UPDATE with a lease.

Works the same on SQLite and PostgreSQL and across machines, because the only arbiter is the
database: whoever's UPDATE matches the row (free, or its lease expired, and due) holds the job.
A holder that dies frees the job when its lease runs out; a live holder renews it as it works.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.job_models import JobRun


def _ensure_row(db_session: Session, name: str) -> None:
    """Create the job's row once (a concurrent creator's insert simply loses)."""
    if db_session.get(JobRun, name) is not None:
        return
    try:
        with db_session.begin_nested():
            db_session.add(JobRun(name=name, last_result={}))
    except IntegrityError:
        pass


def acquire(
    *,
    db_session: Session,
    name: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    every: timedelta | None = None,
) -> bool:
    """Claim the job until now + lease; with `every`, only if it last started that long ago.

    Commit right after, so other machines see the claim.
    """
    _ensure_row(db_session, name)
    conditions = [
        JobRun.name == name,
        or_(JobRun.locked_until.is_(None), JobRun.locked_until <= now),
    ]
    if every is not None:
        conditions.append(
            or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= now - every)
        )
    result = db_session.execute(
        update(JobRun)
        .where(*conditions)
        .values(locked_by=owner, locked_until=now + lease, last_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def renew(*, db_session: Session, name: str, owner: str, until: datetime) -> bool:
    """Extend this owner's lease; False if it is no longer the holder (the lease ran out)."""
    result = db_session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.locked_by == owner, JobRun.locked_until.is_not(None))
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(
    *, db_session: Session, name: str, owner: str, now: datetime, result: dict[str, Any]
) -> None:
    """Free the job and record when this run finished and what it did."""
    db_session.execute(
        update(JobRun)
        .where(JobRun.name == name, JobRun.locked_by == owner)
        .values(locked_until=None, last_finished_at=now, last_result=result)
        .execution_options(synchronize_session=False)
    )


def describe(*, db_session: Session, name: str, now: datetime) -> str:
    """Why the job cannot be claimed now: who holds it, or when it last started."""
    job = db_session.get(JobRun, name)
    if job is None:
        return f"{name} has never run"
    if job.locked_until is not None and job.locked_until > now:
        return (
            f"{name} is running on {job.locked_by} (since {job.last_started_at:%Y-%m-%d %H:%M} "
            f"UTC, lease until {job.locked_until:%H:%M} UTC)"
        )
    started = f"{job.last_started_at:%Y-%m-%d %H:%M} UTC" if job.last_started_at else "never"
    return f"{name} is not due: it last started {started}"
