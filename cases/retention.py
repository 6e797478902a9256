"""Retention: how long the store keeps what (docs/retention.md), applied in bounded batches.

One run walks the rules of cases/retention_rules.py in order. Each selects at most
`batch_size` ids, changes those rows and commits, then selects again, so no transaction holds
SQLite's write lock for more than a few milliseconds and webhooks keep flowing. A run holds the
`retention` job lock (cases.locks), so two machines never run it at once, and writes one audit
entry with its counts. Cases, case history, opt-outs, staff accounts and the audit log itself
are never deleted.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import locks
from cases.audit import record
from cases.models import Turn
from cases.nlu_models import ModelVersion
from cases.retention_rules import ACTOR, KINDS, STEPS, Applier, Policy, Selector, expired

__all__ = ["JOB", "KINDS", "Policy", "RetentionBusy", "preview", "run", "sweep_model_files"]

JOB = "retention"
LEASE = timedelta(minutes=15)  # renewed after every batch; a dead run frees the job by then


class RetentionBusy(Exception):
    """Another run holds the job, or it is not due yet: this run did nothing."""


# --- running the steps


def _step(
    db_session: Session,
    step: tuple[str, Selector, Applier, str],
    *,
    now: datetime,
    policy: Policy,
    owner: str,
    started: float,
    counts: dict[str, int],
    pause: float,
) -> None:
    """Apply one step batch by batch, renewing the job's lease in every batch's transaction."""
    name, selector, applier, extra = step
    previous: list[int] = []
    while True:
        with db_session.begin():
            until = now + timedelta(seconds=time.monotonic() - started) + LEASE
            if not locks.renew(db_session=db_session, name=JOB, owner=owner, until=until):
                raise RetentionBusy("the retention lease ran out and another run took over")
            query = selector(db_session, now, policy)
            ids = [] if query is None else list(db_session.scalars(query.limit(policy.batch_size)))
            if ids and ids == previous:
                raise RuntimeError(f"retention step {name} made no progress")
            reported = applier(db_session, ids, now, policy) if ids else 0
        counts[name] += len(ids)
        if extra:
            counts[extra] += reported
        if len(ids) < policy.batch_size:
            return
        previous = ids
        time.sleep(pause)  # let waiting writers (webhooks) take the SQLite lock in between


def run(
    *,
    db_session: Session,
    now: datetime,
    policy: Policy,
    model_dir: Path,
    owner: str,
    every: timedelta | None = None,
    pause: float = 0.0,
) -> dict[str, int]:
    """Apply the policy as of `now` under the job lock; returns the counts per kind.

    The session must not be in a transaction: every batch commits on its own. With `every`,
    the run only happens if the job last started at least that long ago (the schedule);
    RetentionBusy says why a run did not happen.
    """
    owner = f"{owner}/{secrets.token_hex(3)}"
    with db_session.begin():
        claimed = locks.acquire(
            db_session=db_session, name=JOB, owner=owner, now=now, lease=LEASE, every=every
        )
        why = "" if claimed else locks.describe(db_session=db_session, name=JOB, now=now)
    if not claimed:
        raise RetentionBusy(why)
    counts = dict.fromkeys(KINDS, 0)
    started = time.monotonic()
    error = ""
    try:
        for step in STEPS:
            _step(
                db_session,
                step,
                now=now,
                policy=policy,
                owner=owner,
                started=started,
                counts=counts,
                pause=pause,
            )
        sweep_model_files(db_session=db_session, model_dir=model_dir)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        db_session.rollback()
        raise
    finally:
        with db_session.begin():
            locks.release(
                db_session=db_session,
                name=JOB,
                owner=owner,
                now=now + timedelta(seconds=time.monotonic() - started),
                result={"counts": counts, **({"error": error} if error else {})},
            )
            record(
                db_session=db_session,
                actor=None,
                actor_name=ACTOR,
                action="retention.run",
                target_type="job",
                target_id=JOB,
                now=now,
                detail={
                    "counts": counts,
                    "policy": policy.describe(),
                    "owner": owner,
                    **({"error": error} if error else {}),
                },
            )
    return counts


def preview(*, db_session: Session, now: datetime, policy: Policy) -> dict[str, int]:
    """What a run would change now, counted without changing anything (`--dry-run`).

    Conversations a run would first close as idle are redacted in that same run; the preview
    counts them as closed only.
    """
    counts = dict.fromkeys(KINDS, 0)
    with db_session.begin():
        for name, selector, _applier, _extra in STEPS:
            query = selector(db_session, now, policy)
            if query is not None:
                counts[name] = int(
                    db_session.scalar(select(func.count()).select_from(query.subquery())) or 0
                )
        doomed = expired(db_session, now, policy)
        if doomed is not None:
            counts["turns_deleted"] = int(
                db_session.scalar(select(func.count()).where(Turn.conversation_id.in_(doomed))) or 0
            )
    return counts


_VERSION_FOLDER = re.compile(r"(?:eval-)?v(\d+)")
_CACHED_COPY = re.compile(r"v(\d+)\.tar\.gz")


def sweep_model_files(*, db_session: Session, model_dir: Path) -> int:
    """Delete this machine's folders (vN/, eval-vN/) of pruned versions; returns how many.

    Only folders directly inside model_dir are touched, never a model_path elsewhere (such as
    `make run`'s cached model). Safe to call on every machine: it only follows the rows.
    """
    if not model_dir.is_dir():
        return 0
    folders = {
        path: int(match.group(1))
        for path in model_dir.iterdir()
        if path.is_dir()
        and not path.is_symlink()
        and (match := _VERSION_FOLDER.fullmatch(path.name))
    }
    cache = model_dir / "cache"  # this machine's copies of models from the artifact store
    copies = {
        path: int(match.group(1))
        for path in (cache.iterdir() if cache.is_dir() else [])
        if path.is_file() and (match := _CACHED_COPY.fullmatch(path.name))
    }
    folders.update(copies)
    if not folders:
        return 0
    with db_session.begin():
        pruned = set(
            db_session.scalars(
                select(ModelVersion.id).where(
                    ModelVersion.id.in_(set(folders.values())),
                    ModelVersion.files_deleted_at.is_not(None),
                    ModelVersion.active.is_(False),
                )
            )
        )
    removed = [path for path, version in folders.items() if version in pruned]
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(removed)
