"""Activating a model version as a background job: intent first, replica by replica, recoverable.

The console (and `flask nlu activate`) only checks the version and records a queued `activate`
job that holds the database lock `nlu.activate`, with its intent ("activating version N: replicas
A, B; previous version M"). `python -m nlu.activation run JOB` — a process of its own, outside
the gunicorn worker — loads the model into each Rasa server in turn, recording each replica's
state, and marks the version active in the transaction that ends the job and frees the lock.

Anything left half-done — a replica that fails to load, or a runner killed between replicas — is
rolled back to the recorded active version (the database never changed it), never rolled
forward: the previous model was serving a moment ago, the wanted one has not proved it loads,
and nobody is at the console to watch an unattended retry at start-up.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cases import jobs
from cases.audit import record
from cases.models import Job, ModelVersion, User, utcnow
from nlu.client import NLUError, RasaClient
from nlu.job_processes import job_env, launch
from nlu.languages import DEFAULT, lookup
from nlu.versions import VersionError, active
from settings import Settings

__all__ = ["job_env", "launch"]  # the console starts jobs through this module

LOCK = "nlu.activate"
WAITING, LOADING, LOADED, FAILED = "waiting", "loading", "loaded", "failed"
RESTORING, RESTORED, RESTORE_FAILED = "restoring", "restored", "restore failed"

log = logging.getLogger("civicline.activation")


class Interrupted(VersionError):
    """An earlier activation died half-way; it must be rolled back before another one starts."""


def check(
    *, db_session: Session, version_id: int, reason: str, rollback: bool
) -> tuple[ModelVersion, ModelVersion | None]:
    """The version to load and the active one; VersionError if it may not be activated.

    Refuses a version whose held-out macro-F1 is below the active one's unless a reason is
    given (recorded in the audit log). A rollback to an earlier version needs no reason.
    """
    version = db_session.get(ModelVersion, version_id)
    if version is None:
        raise VersionError(f"no version {version_id}")
    current = active(db_session=db_session, language=version.language)  # each language its own
    if (
        version.status != "trained"
        or not version.model_path
        or not Path(version.model_path).exists()
    ):
        raise VersionError(f"version {version.id} has no trained model to load")
    if current is not None and current.id == version.id:
        raise VersionError(f"version {version.id} is already active")
    worse = (
        current is not None
        and current.macro_f1 is not None
        and version.macro_f1 is not None
        and version.macro_f1 < current.macro_f1
    )
    if worse and not rollback and not reason.strip():
        raise VersionError(
            f"version {version.id} scores {version.macro_f1:.3f} on the held-out set, below the "
            f"active version {current.id} ({current.macro_f1:.3f}); give a reason to override"
        )
    return version, current


def enqueue(
    *,
    db_session: Session,
    version_id: int,
    user: User | None,
    urls: list[str],
    reason: str = "",
    rollback: bool = False,
    now: datetime | None = None,
) -> Job:
    """Record the intent as a queued job holding the activation lock (one activation at a time)."""
    version, current = check(
        db_session=db_session, version_id=version_id, reason=reason, rollback=rollback
    )
    if not urls:
        row = lookup(version.language)
        raise VersionError(
            f"no {row.name} Rasa server is configured (CIVICLINE_RASA_URL{row.env_suffix})"
        )
    busy = jobs.holder(db_session=db_session, name=LOCK)
    if busy is not None:
        why = jobs.dead_reason(busy, now)
        if why:
            raise Interrupted(
                f"the activation of version {busy.target_id} (job {busy.id}) was interrupted "
                f"({why}); it is being rolled back to the recorded version, try again in a minute"
            )
        if busy.detail.get("interrupted"):
            raise VersionError(
                f"job {busy.id} is rolling back an interrupted activation of version "
                f"{busy.target_id}; one activation at a time, try again in a minute"
            )
        raise VersionError(
            f"version {busy.target_id} is being activated now (job {busy.id}, by "
            f"{busy.created_by}); one activation at a time"
        )
    label = "" if version.language == DEFAULT else f"{lookup(version.language).name} "
    intent = (
        f"activating {label}version {version.id}: replicas {', '.join(urls)}; "
        f"previous version {current.id if current else 'none'}"
    )
    try:
        job = jobs.create_job(
            db_session=db_session,
            kind="activate",
            lock=LOCK,
            target_id=version.id,
            created_by=user.username if user else "cli",
            detail={
                "intent": intent,
                "version": version.id,
                "language": version.language,
                "model": version.model_path,
                "previous": current.id if current else None,
                "previous_model": current.model_path if current else None,
                "replicas": list(urls),
                "reason": reason.strip(),
                "rollback": rollback,
            },
            progress=dict.fromkeys(urls, WAITING),
            now=now,
        )
    except jobs.LockBusy as exc:  # another admin's request won the conditional UPDATE
        raise VersionError("another activation started just now; one activation at a time") from exc
    record(
        db_session=db_session,
        actor=user,
        action="nlu.activate.queued",
        target_type="model_version",
        target_id=version.id,
        detail={"job": job.id, "intent": intent, "override_reason": reason.strip()},
    )
    return job


def _set(sessions: sessionmaker[Session], lease: jobs.Lease, url: str, state: str) -> None:
    """Record one replica's state (only while this process still owns the job)."""
    with sessions() as s, s.begin():
        job = jobs.owned(db_session=s, lease=lease)
        job.progress = {**job.progress, url: state}


def _restore(
    sessions: sessionmaker[Session], lease: jobs.Lease, client: RasaClient, timeout: float
) -> tuple[list[str], list[str]]:
    """Load the recorded active version back into every replica the job may have changed."""
    with sessions() as s:
        job = jobs.owned(db_session=s, lease=lease)
        detail, progress = dict(job.detail), dict(job.progress)
        s.rollback()
    touched = [u for u in detail["replicas"] if progress.get(u, WAITING) != WAITING]
    previous = detail.get("previous_model")
    if touched and not (previous and Path(previous).exists()):
        return [], [f"no previous model to go back to; {', '.join(touched)} may serve the new one"]
    done, problems = [], []
    for url in touched:
        _set(sessions, lease, url, RESTORING)
        try:
            client.load_model(url, previous, timeout=timeout)
        except NLUError as exc:
            _set(sessions, lease, url, RESTORE_FAILED)
            problems.append(str(exc))
            continue
        _set(sessions, lease, url, RESTORED)
        done.append(url)
    before = detail.get("model_ids_before", {})
    for url in done:  # the model it serves again should be the one it served before the job
        try:
            now_serving = client.status(url).get("model_id")
        except NLUError as exc:
            problems.append(str(exc))
            continue
        if url in before and now_serving != before[url]:
            problems.append(f"{url} serves model {now_serving}, not {before[url]} as before")
    return done, problems


def _actor(db_session: Session, job: Job) -> User | None:
    return db_session.scalars(select(User).where(User.username == job.created_by)).first()


def run(
    *, sessions: sessionmaker[Session], job_id: int, token: str | None, timeout: float = 180.0
) -> Job:
    """Carry out a queued activation in this process: each replica in turn, then mark it active."""
    with sessions() as s, s.begin():
        lease = jobs.start(db_session=s, job_id=job_id)
        detail = dict(s.get(Job, job_id).detail)  # type: ignore[union-attr]
    urls = list(detail["replicas"])
    client = RasaClient(",".join(urls), token, timeout=10.0)
    started = time.monotonic()
    with jobs.heartbeat(sessions, lease):
        try:
            before = {url: client.status(url).get("model_id") for url in urls}
        except NLUError as exc:
            return _fail(sessions, lease, f"{exc}; no replica was changed", [], [])
        with sessions() as s, s.begin():
            job = jobs.owned(db_session=s, lease=lease)
            job.detail = {**job.detail, "model_ids_before": before}
        for url in urls:
            _set(sessions, lease, url, LOADING)  # fenced: stops here if the job was adopted
            try:
                client.load_model(url, detail["model"], timeout=timeout)
            except NLUError as exc:
                _set(sessions, lease, url, FAILED)
                done, problems = _restore(sessions, lease, client, timeout)
                return _fail(sessions, lease, str(exc), done, problems)
            _set(sessions, lease, url, LOADED)
        return _succeed(sessions, lease, detail, round(time.monotonic() - started, 2))


def _succeed(
    sessions: sessionmaker[Session], lease: jobs.Lease, detail: dict[str, Any], seconds: float
) -> Job:
    """Mark the version active in the same transaction that ends the job and frees the lock."""
    urls, version_id = list(detail["replicas"]), int(detail["version"])
    verb = "Rolled back to" if detail.get("rollback") else "Activated"
    with sessions() as s, s.begin():
        job = jobs.finish(
            db_session=s,
            lease=lease,
            status="done",
            result=f"{verb} version {version_id} on {len(urls)} Rasa server(s) in {seconds} s",
        )
        chosen = s.get(ModelVersion, version_id)
        assert chosen is not None
        if (old := active(db_session=s, language=chosen.language)) is not None:
            old.active = False  # only this language's: the others keep theirs
        chosen.active, chosen.activated_at = True, utcnow()
        chosen.activated_by = job.created_by
        record(
            db_session=s,
            actor=_actor(s, job),
            action="nlu.rollback" if detail.get("rollback") else "nlu.activate",
            target_type="model_version",
            target_id=version_id,
            detail={
                "job": job.id,
                "previous": detail.get("previous"),
                "override_reason": detail.get("reason", ""),
                "macro_f1": chosen.macro_f1,
                "seconds": seconds,
                "replicas": urls,
            },
        )
    return job


def _fail(
    sessions: sessionmaker[Session],
    lease: jobs.Lease,
    error: str,
    done: list[str],
    problems: list[str],
    *,
    action: str = "nlu.activate.failed",
) -> Job:
    """End the job as failed, saying where each replica was left; audit it."""
    with sessions() as s, s.begin():
        job = jobs.owned(db_session=s, lease=lease)
        previous = job.detail.get("previous")
        result = (
            f"rolled back to version {previous} on {', '.join(done)}"
            if done
            else "no replica had been changed"
        )
        if problems:
            result += "; " + "; ".join(problems)
        job = jobs.finish(db_session=s, lease=lease, status="failed", result=result, error=error)
        record(
            db_session=s,
            actor=_actor(s, job) if action == "nlu.activate.failed" else None,
            action=action,
            target_type="model_version",
            target_id=job.target_id or "",
            detail={
                "job": job.id,
                "error": error[:500],
                "result": result[:500],
                "restored_to": None if problems else previous,
                "replicas": job.progress,
            },
        )
    return job


def recover(
    *,
    sessions: sessionmaker[Session],
    token: str | None,
    timeout: float = 180.0,
    now: datetime | None = None,
) -> Job | None:
    """Roll a dead activation's replicas back to the recorded version; None if none is dead.

    Only one process adopts the dead job (a compare-and-set on its lease), so every gunicorn
    worker, the supervisor and the next activation may all call this safely.
    """
    with sessions() as s, s.begin():
        job = jobs.holder(db_session=s, name=LOCK)
        why = jobs.dead_reason(job, now) if job else None
        if job is None or why is None:
            return None
        lease = jobs.take_over(db_session=s, job=job, why=why, now=now)
        if lease is None:
            return None
        urls = list(job.detail.get("replicas", []))
    log.warning("activation job %s was interrupted (%s): rolling back", lease.job_id, why)
    client = RasaClient(",".join(urls) or "http://127.0.0.1", token, timeout=10.0)
    with jobs.heartbeat(sessions, lease):
        done, problems = _restore(sessions, lease, client, timeout)
        return _fail(
            sessions,
            lease,
            f"interrupted: {why}",
            done,
            problems,
            action="nlu.activate.recovered",
        )


def recover_in_background(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    starter: Callable[..., Any] | None = None,
) -> bool:
    """At app start: if an activation died half-way, start its rollback outside this process."""
    try:
        with sessions() as s:
            job = jobs.holder(db_session=s, name=LOCK)
    except SQLAlchemyError as exc:  # no store yet (not migrated): nothing can be half-done
        log.warning("could not look for interrupted activations: %s", exc)
        return False
    if job is None or jobs.dead_reason(job) is None:
        return False
    (starter or launch)(["recover"], job_env(settings), settings.model_dir / "jobs" / "recover.log")
    return True


def main(argv: list[str]) -> int:
    """`run JOB_ID` (what the console starts) or `recover` (roll back a dead activation)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s activation %(message)s")
    if not (argv == ["recover"] or (len(argv) == 2 and argv[0] == "run" and argv[1].isdigit())):
        print("usage: python -m nlu.activation run JOB_ID | recover", file=sys.stderr)
        return 2
    from cases.db import make_engine, make_session_factory

    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        if argv[0] == "recover":
            job = recover(sessions=sessions, token=settings.rasa_token)
            print(f"job {job.id}: {job.result}" if job else "nothing to recover", flush=True)
            return 0
        job = run(sessions=sessions, job_id=int(argv[1]), token=settings.rasa_token)
    except jobs.JobLost as exc:  # another process adopted the job: leave everything to it
        print(f"stopped: {exc}", file=sys.stderr)
        return 1
    print(f"job {job.id} {job.status}: {job.result} {job.error or ''}", flush=True)
    return 0 if job.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
