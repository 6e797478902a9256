"""Bring a database to the newest schema with Alembic (used by `make run` and the tests)."""

from __future__ import annotations

import sys

from alembic import command
from alembic.config import Config

from settings import ROOT, Settings


def upgrade(database_url: str) -> None:
    """Run every pending migration on the database."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


if __name__ == "__main__":
    url = Settings.from_env().database_url
    upgrade(url)
    print(f"database ready: {url.split('@')[-1]}", file=sys.stderr)
