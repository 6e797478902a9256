"""Database engine and session factory; SQLite gets WAL, foreign keys and locking transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Executable, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// URLs use the psycopg (3) driver that requirements.txt has."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, enable WAL and make every transaction take the write lock."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement's log line must not carry residents' words or numbers
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 15}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front, so two workers handling the same
        # conversation serialise instead of failing on a lock upgrade. A read-only transaction
        # (READ_ONLY) needs no lock in WAL: taking it made the other worker sleep in SQLite's
        # busy handler (1, 2, 5, 10... ms) while this one only read.
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


READ_ONLY_OPTION = "civicline_read_only"


def begin_read_only(db_session: Session) -> None:
    """Start the session's transaction as a read (SQLite: no write lock); no-op if begun."""
    if not db_session.in_transaction():
        db_session.connection(execution_options={READ_ONLY_OPTION: True})


def has_pending(db_session: Session, model: type) -> bool:
    """Whether the session holds new, changed or deleted `model` objects not yet flushed: a
    plain-row query on the connection would not see them (the ORM's queries flush them first)."""
    unflushed = (db_session.new, db_session.dirty, db_session.deleted)
    return any(isinstance(o, model) for objects in unflushed for o in objects)


def plain_rows(
    db_session: Session, statement: Executable, params: dict[str, Any], *, model: type
) -> Result[Any]:
    """Rows of a column query run on the connection, skipping the ORM's execution path (hot
    per-turn reads); through the session, which flushes first, if `model` rows are unflushed."""
    if has_pending(db_session, model):
        return db_session.execute(statement, params)
    return db_session.connection().execute(statement, params)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
