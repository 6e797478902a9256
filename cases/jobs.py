"""Background jobs recorded in the store, and named locks that hold across machines.

A lock is a row of `job_locks` taken by a conditional UPDATE (`... WHERE job_id IS NULL`), so
two processes sharing the database — on one machine (SQLite) or several (PostgreSQL) — cannot
both hold it; a file lock would only cover one machine's disk. A job shows it is alive by a
heartbeat; one whose heartbeat is stale, or whose process on this host is gone, is dead, and
whoever finds it so (`take_over` or `abandon`) decides what becomes of its half-done work.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cases.job_models import Job, JobLock
from cases.models import utcnow

HEARTBEAT_EVERY = 5.0  # seconds between a running job's heartbeats
STALE_AFTER = timedelta(seconds=60)  # no heartbeat for this long: the job's process is dead
UNFINISHED = ("queued", "running")

log = logging.getLogger("civicline.jobs")


class LockBusy(RuntimeError):
    """The lock is held by another job."""

    def __init__(self, name: str, holder: Job | None):
        super().__init__(f"{name} is held by job {holder.id if holder else '?'}")
        self.holder = holder


class JobLost(RuntimeError):
    """This process no longer owns the job: another one took it over."""


@dataclass
class Lease:
    """This process's hold on a job: the fencing token every write is conditional on."""

    job_id: int
    token: int
    lost: threading.Event = field(default_factory=threading.Event)


def this_host() -> str:
    """The machine's name, recorded with a job so its pid can be checked here."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process of this host still runs (a zombie, dead but unreaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def dead_reason(job: Job, now: datetime | None = None) -> str | None:
    """Why an unfinished job is dead (process gone, heartbeat stale); None while it may live."""
    if job.status not in UNFINISHED:
        return None
    if job.pid and job.host == this_host() and not pid_alive(job.pid):
        return f"its process {job.pid} on {job.host} is gone"
    last = job.heartbeat_at or job.created_at
    if (now or utcnow()) - last > STALE_AFTER:
        return f"no heartbeat since {last:%Y-%m-%d %H:%M:%S} UTC"
    return None


def claim(
    *,
    db_session: Session,
    name: str,
    job_id: int,
    expect: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Give the lock to a job if it is free (or still held by `expect`): one conditional UPDATE."""
    now = now or utcnow()
    held = JobLock.job_id.is_(None) if expect is None else JobLock.job_id == expect
    won = db_session.execute(
        update(JobLock)
        .where(JobLock.name == name, held)
        .values(job_id=job_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won:
        return True
    if expect is not None or db_session.scalar(select(JobLock.name).where(JobLock.name == name)):
        return False
    try:  # the lock's first use: whoever inserts its row first holds it
        with db_session.begin_nested():
            db_session.add(JobLock(name=name, job_id=job_id, claimed_at=now))
    except IntegrityError:
        return False
    return True


def release(*, db_session: Session, name: str, job_id: int) -> bool:
    """Free the lock if this job holds it."""
    return bool(
        db_session.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.job_id == job_id)
            .values(job_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def holder(*, db_session: Session, name: str) -> Job | None:
    """The job holding the lock, read fresh from the database."""
    job_id = db_session.scalar(select(JobLock.job_id).where(JobLock.name == name))
    if job_id is None:
        return None
    return db_session.get(Job, job_id, populate_existing=True)


def create_job(
    *,
    db_session: Session,
    kind: str,
    lock: str,
    target_id: int | None = None,
    created_by: str = "",
    detail: dict[str, Any] | None = None,
    progress: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Job:
    """Record a queued job holding the lock, in the caller's transaction; LockBusy if it is held."""
    now = now or utcnow()
    job = Job(
        kind=kind,
        lock_name=lock,
        target_id=target_id,
        created_by=created_by,
        status="queued",
        created_at=now,
        heartbeat_at=now,
        lease=0,
        detail=detail or {},
        progress=progress or {},
    )
    db_session.add(job)
    db_session.flush()
    if not claim(db_session=db_session, name=lock, job_id=job.id, now=now):
        db_session.delete(job)
        db_session.flush()
        raise LockBusy(lock, holder(db_session=db_session, name=lock))
    return job


def _bump(db_session: Session, job: Job, now: datetime) -> Lease | None:
    """Make this process the job's runner, unless another process did since `job` was read."""
    token = job.lease + 1
    won = db_session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease == job.lease, Job.status.in_(UNFINISHED))
        .values(
            lease=token,
            status="running",
            host=this_host(),
            pid=os.getpid(),
            heartbeat_at=now,
            started_at=job.started_at or now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        return None
    db_session.refresh(job)
    return Lease(job.id, token)


def start(*, db_session: Session, job_id: int, now: datetime | None = None) -> Lease:
    """Begin a queued job that holds its lock, in this process; JobLost if it is not waiting."""
    job = db_session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != "queued":
        raise JobLost(f"job {job_id} is not waiting to run")
    if holder(db_session=db_session, name=job.lock_name) is not job:
        raise JobLost(f"job {job_id} does not hold {job.lock_name}")
    lease = _bump(db_session, job, now or utcnow())
    if lease is None:
        raise JobLost(f"job {job_id} was started by another process")
    return lease


def take_over(
    *, db_session: Session, job: Job, why: str, now: datetime | None = None
) -> Lease | None:
    """Adopt a dead job to finish or undo its work; None if another process adopted it first."""
    now = now or utcnow()
    previous = f"{job.host or '?'}:{job.pid or '?'}"
    lease = _bump(db_session, job, now)
    if lease is not None:
        job.detail = {
            **job.detail,
            "interrupted": why,
            "interrupted_runner": previous,
            "taken_over_by": f"{this_host()}:{os.getpid()}",
            "taken_over_at": now.isoformat(timespec="seconds"),
        }
    return lease


def abandon(*, db_session: Session, job: Job, error: str, now: datetime | None = None) -> bool:
    """Mark a dead job failed and free its lock, unless another process adopted it meanwhile."""
    won = db_session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease == job.lease, Job.status.in_(UNFINISHED))
        .values(status="failed", error=error, finished_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won:
        release(db_session=db_session, name=job.lock_name, job_id=job.id)
        db_session.refresh(job)
    return bool(won)


def reap(
    *, db_session: Session, name: str, what: str, now: datetime | None = None
) -> tuple[Job, str] | None:
    """Fail the lock's holder and free the lock if its process died: (job, why) when it did."""
    job = holder(db_session=db_session, name=name)
    why = dead_reason(job, now) if job is not None else None
    if job is None or why is None:
        return None
    if not abandon(db_session=db_session, job=job, error=f"{what} stopped: {why}", now=now):
        return None
    return job, why


def owned(*, db_session: Session, lease: Lease) -> Job:
    """The job, locked for this transaction, while this process still runs it; else JobLost."""
    job = db_session.scalars(
        select(Job)
        .where(Job.id == lease.job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if job is None or job.lease != lease.token or job.status != "running":
        lease.lost.set()
        raise JobLost(f"job {lease.job_id} was taken over by {job.host if job else '?'}")
    return job


def finish(
    *,
    db_session: Session,
    lease: Lease,
    status: str,
    result: str | None = None,
    error: str | None = None,
    now: datetime | None = None,
) -> Job:
    """End an owned job as done or failed and free its lock, in the caller's transaction."""
    job = owned(db_session=db_session, lease=lease)
    job.status, job.result, job.error = status, result, error
    job.finished_at = now or utcnow()
    release(db_session=db_session, name=job.lock_name, job_id=job.id)
    return job


class Heartbeat(threading.Thread):
    """Keeps a running job's heartbeat fresh while the main thread waits on slow work."""

    def __init__(self, sessions: sessionmaker[Session], lease: Lease, every: float):
        super().__init__(name=f"heartbeat-job-{lease.job_id}", daemon=True)
        self.sessions, self.lease, self.every = sessions, lease, every
        self.stopped = threading.Event()

    def run(self) -> None:
        """Beat until stopped, or until the job turns out to belong to another process."""
        while not self.stopped.wait(self.every):
            try:
                with self.sessions() as s, s.begin():
                    beat = s.execute(
                        update(Job)
                        .where(
                            Job.id == self.lease.job_id,
                            Job.lease == self.lease.token,
                            Job.status == "running",
                        )
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    ).rowcount
            except SQLAlchemyError as exc:  # a database hiccup: the next beat may get through
                log.warning("job %s heartbeat failed: %s", self.lease.job_id, exc)
                continue
            if not beat:
                self.lease.lost.set()
                return


@contextmanager
def heartbeat(
    sessions: sessionmaker[Session], lease: Lease, every: float = HEARTBEAT_EVERY
) -> Iterator[Lease]:
    """Beat for the job while the block runs."""
    beat = Heartbeat(sessions, lease, every)
    beat.start()
    try:
        yield lease
    finally:
        beat.stopped.set()
        beat.join(every + 5)


def recent(*, db_session: Session, kind: str | None = None, limit: int = 10) -> list[Job]:
    """The newest jobs, of one kind or all."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    return list(db_session.scalars(query))
