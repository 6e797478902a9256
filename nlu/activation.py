"""Activating a model version as desired state: the wanted version in the store, rolled out by
every machine's reconciler (nlu/reconcile.py) into its own Rasa replicas.

The console (and `flask nlu activate`) checks the version, records a rollout job holding the
database lock `nlu.activate` (one activation at a time, across machines) and sets the language's
`NluTarget`. Nothing is loaded in the request. Each reconciler takes its replicas out of
rotation one at a time, loads the model, and reports each replica back; whichever reconciler
sees every live replica serving the wanted version ends the job and marks the version active in
that transaction. A replica that fails to load is put back on its model and the target goes
back to the previous version, so replicas already switched follow and the rest are untouched.
A machine that dies mid-rollout stops reporting and no longer holds the rollout up.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import jobs
from cases.admin_models import User
from cases.audit import record
from cases.fleet_models import NluTarget
from cases.job_models import Job
from cases.models import utcnow
from cases.nlu_models import ModelVersion
from nlu import fleet
from nlu.languages import DEFAULT, lookup
from nlu.model_store import has_model
from nlu.versions import VersionError, active

LOCK = "nlu.activate"
WAITING, DRAINING, LOADING, LOADED = "waiting", "draining", "loading", "loaded"
FAILED, RESTORED = "failed", "restored"

log = logging.getLogger("civicline.activation")


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
    if version.status != "trained" or not has_model(db_session=db_session, version=version):
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


def _end(db_session: Session, job: Job, status: str, result: str, error: str | None = None) -> bool:
    """End an unfinished job and free its lock, unless another machine ended it first."""
    won = db_session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_(jobs.UNFINISHED))
        .values(status=status, result=result, error=error, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won:
        jobs.release(db_session=db_session, name=job.lock_name, job_id=job.id)
        db_session.refresh(job)
    return bool(won)


def _revert_target(db_session: Session, language: str, job: Job) -> None:
    """Point the language back at the version that was active before this rollout."""
    target = db_session.get(NluTarget, language)
    if target is None or target.job_id != job.id:
        return
    previous = job.detail.get("previous")
    if previous is None:
        db_session.delete(target)
    else:
        target.version_id, target.previous_id, target.job_id = previous, None, None
        target.changed_at = utcnow()


def _give_up_stale(db_session: Session, job: Job, why: str) -> None:
    """A rollout no machine has reported on for a minute: fail it and want the old version."""
    if _end(db_session, job, "failed", "no reconciler reported; rolled back", f"stalled: {why}"):
        _revert_target(db_session, str(job.detail.get("language", DEFAULT)), job)
        record(
            db_session=db_session,
            actor=None,
            action="nlu.activate.stalled",
            target_type="model_version",
            target_id=job.target_id or "",
            detail={"job": job.id, "why": why, "replicas": job.progress},
        )


def enqueue(
    *,
    db_session: Session,
    version_id: int,
    user: User | None,
    reason: str = "",
    rollback: bool = False,
    now: datetime | None = None,
    gone_after: timedelta = fleet.GONE_AFTER,
) -> Job:
    """Record the rollout job (holding the activation lock) and the wanted version."""
    now = now or utcnow()
    version, current = check(
        db_session=db_session, version_id=version_id, reason=reason, rollback=rollback
    )
    busy = jobs.holder(db_session=db_session, name=LOCK)
    if busy is not None:
        why = jobs.dead_reason(busy, now)
        if why is None:
            raise VersionError(
                f"version {busy.target_id} is being activated now (job {busy.id}, by "
                f"{busy.created_by}); one activation at a time"
            )
        _give_up_stale(db_session, busy, why)
    row = lookup(version.language)
    replicas = fleet.live(db_session=db_session, language=row.code, now=now, gone_after=gone_after)
    replicas = [r for r in replicas if r.state != fleet.DOWN]
    if not replicas:
        raise VersionError(
            f"no {row.name} Rasa server is reporting (is each machine's reconciler running? "
            "make run starts one; or flask nlu serve-reconcile)"
        )
    names = [f"{r.machine} {r.url}" for r in replicas]
    label = "" if version.language == DEFAULT else f"{row.name} "
    intent = (
        f"activating {label}version {version.id}: replicas {', '.join(names)}; "
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
                "previous": current.id if current else None,
                "replicas": names,
                "reason": reason.strip(),
                "rollback": rollback,
                "started": now.isoformat(),
            },
            progress=dict.fromkeys(names, WAITING),
            now=now,
        )
    except jobs.LockBusy as exc:  # another admin's request won the conditional UPDATE
        raise VersionError("another activation started just now; one activation at a time") from exc
    job.status, job.started_at = "running", now
    target = db_session.get(NluTarget, version.language)
    if target is None:
        target = NluTarget(language=version.language, version_id=version.id)
        db_session.add(target)
    target.version_id, target.previous_id = version.id, current.id if current else None
    target.job_id, target.changed_at = job.id, now
    record(
        db_session=db_session,
        actor=user,
        action="nlu.activate.queued",
        target_type="model_version",
        target_id=version.id,
        detail={"job": job.id, "intent": intent, "override_reason": reason.strip()},
    )
    return job


def rollout(*, db_session: Session, language: str) -> Job | None:
    """The language's unfinished rollout job, if any."""
    target = db_session.get(NluTarget, language, populate_existing=True)
    if target is None or target.job_id is None:
        return None
    job = db_session.get(Job, target.job_id, populate_existing=True)
    return job if job is not None and job.status in jobs.UNFINISHED else None


def touch(*, db_session: Session, language: str, name: str, state: str) -> None:
    """Record one replica's step in the rollout's progress (and that a reconciler is alive)."""
    job = rollout(db_session=db_session, language=language)
    if job is not None:
        job.progress = {**job.progress, name: state}
        job.heartbeat_at = utcnow()


def settle(
    *,
    db_session: Session,
    language: str,
    now: datetime | None = None,
    gone_after: timedelta = fleet.GONE_AFTER,
) -> Job | None:
    """End the rollout once every live replica serves the wanted version; the job if it ended."""
    job = rollout(db_session=db_session, language=language)
    if job is None:
        return None
    job.heartbeat_at = now or utcnow()
    replicas = [
        r
        for r in fleet.live(
            db_session=db_session, language=language, now=now, gone_after=gone_after
        )
        if r.state != "down"
    ]
    wanted = int(job.detail["version"])
    if not replicas or any(r.version_id != wanted or r.state != fleet.SERVING for r in replicas):
        return None
    started = datetime.fromisoformat(job.detail["started"])
    seconds = round(((now or utcnow()) - started).total_seconds(), 1)
    verb = "Rolled back to" if job.detail.get("rollback") else "Activated"
    result = f"{verb} version {wanted} on {len(replicas)} Rasa server(s) in {seconds} s"
    if not _end(db_session, job, "done", result):
        return None
    chosen = db_session.get(ModelVersion, wanted)
    assert chosen is not None
    if (old := active(db_session=db_session, language=chosen.language)) is not None:
        old.active = False  # only this language's: the others keep theirs
    chosen.active, chosen.activated_at = True, utcnow()
    chosen.activated_by = job.created_by
    target = db_session.get(NluTarget, language)
    if target is not None:
        target.job_id = None
    record(
        db_session=db_session,
        actor=_actor(db_session, job),
        action="nlu.rollback" if job.detail.get("rollback") else "nlu.activate",
        target_type="model_version",
        target_id=wanted,
        detail={
            "job": job.id,
            "previous": job.detail.get("previous"),
            "override_reason": job.detail.get("reason", ""),
            "macro_f1": chosen.macro_f1,
            "seconds": seconds,
            "replicas": [f"{r.machine} {r.url}" for r in replicas],
        },
    )
    return job


def fail(*, db_session: Session, language: str, name: str, error: str) -> Job | None:
    """A replica could not load the wanted version: fail the rollout, want the previous one."""
    job = rollout(db_session=db_session, language=language)
    if job is None:
        return None
    previous = job.detail.get("previous")
    result = (
        f"{name} failed to load version {job.detail['version']}; the fleet goes back to "
        f"version {previous}"
        if previous
        else f"{name} failed to load version {job.target_id}"
    )
    job.progress = {**job.progress, name: FAILED}
    if not _end(db_session, job, "failed", result, error[:2000]):
        return None
    _revert_target(db_session, language, job)
    record(
        db_session=db_session,
        actor=_actor(db_session, job),
        action="nlu.activate.failed",
        target_type="model_version",
        target_id=job.target_id or "",
        detail={"job": job.id, "error": error[:500], "result": result, "replicas": job.progress},
    )
    return job


def _actor(db_session: Session, job: Job) -> User | None:
    return db_session.scalars(select(User).where(User.username == job.created_by)).first()
