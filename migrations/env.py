"""Alembic environment: migrates the store at DATABASE_URL (or the URL a caller passes in)."""

from __future__ import annotations

from alembic import context

from cases.db import make_engine
from cases.models import Base
from settings import Settings

config = context.config
url = config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a live connection."""
    engine = make_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # SQLite's batch migrations copy tables; foreign keys must be off meanwhile (and
            # PRAGMA foreign_keys is ignored inside a transaction, so set it on the raw
            # connection before SQLAlchemy begins one). They are checked again at the end.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
            if engine.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
