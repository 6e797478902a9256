"""The fleet's state in the store: each machine's Rasa replicas, the wanted version per language.

Service functions over `RasaReplica` and `NluTarget` (cases/fleet_models.py) for the
reconciler, the console, /metrics and the parse path (`Rotation`: which replicas take parses).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cases.db import begin_read_only
from cases.fleet_models import NluTarget, RasaReplica
from cases.models import utcnow
from nlu.versions import active

SERVING, DRAINING, LOADING, FAILED, DOWN = "serving", "draining", "loading", "failed", "down"
GONE_AFTER = timedelta(seconds=15)  # a replica not reported for this long: its machine is gone


def replica(*, db_session: Session, machine: str, url: str, language: str) -> RasaReplica:
    """This machine's row for a replica, created on first sight (a racing insert loses)."""
    row = known(db_session=db_session, machine=machine, url=url)
    if row is not None:
        row.language = language
        return row
    try:
        with db_session.begin_nested():
            row = RasaReplica(machine=machine, url=url, language=language, state=DOWN)
            db_session.add(row)
    except IntegrityError:
        row = db_session.scalars(
            select(RasaReplica).where(RasaReplica.machine == machine, RasaReplica.url == url)
        ).one()
    return row


def known(*, db_session: Session, machine: str, url: str) -> RasaReplica | None:
    """This machine's row for a replica, if it has reported before."""
    return db_session.scalars(
        select(RasaReplica).where(RasaReplica.machine == machine, RasaReplica.url == url)
    ).first()


def report(
    *,
    db_session: Session,
    row: RasaReplica,
    state: str,
    version_id: int | None = None,
    error: str | None = None,
    keep_version: bool = False,
) -> None:
    """Record what a replica is doing now (and serves, unless `keep_version`)."""
    now = utcnow()
    if row.state != state or (not keep_version and row.version_id != version_id):
        row.changed_at = now
    row.state, row.error, row.seen_at = state, error, now
    if not keep_version:
        row.version_id = version_id


def heartbeat(*, db_session: Session, machine: str) -> None:
    """Say this machine's replicas are still looked after (one UPDATE)."""
    db_session.execute(
        update(RasaReplica)
        .where(RasaReplica.machine == machine)
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def live(
    *,
    db_session: Session,
    language: str | None = None,
    now: datetime | None = None,
    gone_after: timedelta = GONE_AFTER,
) -> list[RasaReplica]:
    """Replicas whose machine reported lately (a killed machine's drop out after `gone_after`)."""
    query = select(RasaReplica).where(RasaReplica.seen_at > (now or utcnow()) - gone_after)
    if language is not None:
        query = query.where(RasaReplica.language == language)
    return list(db_session.scalars(query.order_by(RasaReplica.machine, RasaReplica.url)))


def everyone(*, db_session: Session) -> list[RasaReplica]:
    """Every replica ever reported, for the console (gone ones are shown as such)."""
    return list(
        db_session.scalars(select(RasaReplica).order_by(RasaReplica.machine, RasaReplica.url))
    )


def wanted(*, db_session: Session, language: str) -> int | None:
    """The version this language's replicas should serve: the target, else the active one."""
    target = db_session.get(NluTarget, language, populate_existing=True)
    if target is not None:
        return target.version_id
    current = active(db_session=db_session, language=language)
    return current.id if current is not None else None


def out_of_rotation(*, db_session: Session, machine: str) -> frozenset[str]:
    """This machine's replicas that must not get parses now (draining, loading, failed)."""
    return frozenset(
        db_session.scalars(
            select(RasaReplica.url).where(
                RasaReplica.machine == machine, RasaReplica.state != SERVING
            )
        )
    )


class Rotation:
    """Which of this machine's replicas to skip, re-read from the store at most every `ttl` s.

    The reconciler marks a replica `draining` and waits longer than `ttl` before loading a model
    into it, so by then no gunicorn worker sends it a parse.
    """

    def __init__(self, sessions: sessionmaker[Session], machine: str, ttl: float = 0.5):
        self.sessions, self.machine, self.ttl = sessions, machine, ttl
        self._skip: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> frozenset[str]:
        now = time.monotonic()
        if now - self._read_at < self.ttl:
            return self._skip
        with self._lock:
            if now - self._read_at >= self.ttl:
                try:
                    with self.sessions() as s:
                        begin_read_only(s)  # on the parse path: never SQLite's write lock
                        self._skip = out_of_rotation(db_session=s, machine=self.machine)
                except SQLAlchemyError:  # the store is down: parse wherever we can
                    self._skip = frozenset()
                self._read_at = now
        return self._skip
