"""`python -m open311.open_data_worker`: write the open data file once a day, on one machine.

Every machine runs one (`make run`); each asks every minute whether today's export is due (the
day's CIVICLINE_OPEN_DATA_HOUR, UTC, has passed and no machine has started it since), and the
`open_data_export` job lock (cases/locks.py) lets exactly one of them run it. Without
CIVICLINE_OPEN_DATA_PATH the worker exits: no nightly file on this machine.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.catalog import Catalog
from cases.daily import run_once_a_day
from cases.db import make_engine, make_session_factory
from open311.open_data import export
from settings import Settings

log = logging.getLogger("civicline.open_data")
JOB = "open_data_export"
LEASE = timedelta(hours=3)  # a run that died frees the job by then (a run takes minutes)
CHECK_SECONDS = 60.0


def tick(
    *,
    sessions: sessionmaker[Session],
    catalog: Catalog,
    city: str,
    path: Path,
    hour: int,
    owner: str,
    now: datetime | None = None,
) -> int | None:
    """Export if due and this machine wins the lock: the row count, else None."""

    def work() -> dict[str, object]:
        with sessions() as db_session:
            rows = export(db_session=db_session, catalog=catalog, city=city, path=path)
        return {"rows": rows, "path": str(path)}

    done = run_once_a_day(
        sessions=sessions, name=JOB, hour=hour, owner=owner, lease=LEASE, work=work, now=now
    )
    return None if done is None else int(done["rows"])


def main() -> int:
    """Check every minute until SIGTERM/SIGINT."""
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s open-data %(message)s")
    settings = Settings.from_env()
    if settings.open_data_path is None:
        log.info("CIVICLINE_OPEN_DATA_PATH is not set: no nightly open data file here")
        return 0
    sessions = make_session_factory(make_engine(settings.database_url))
    catalog = Catalog.load(settings.data_dir / "services.yml")
    owner = f"{socket.gethostname()}:{os.getpid()}"

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        while True:
            try:
                rows = tick(
                    sessions=sessions,
                    catalog=catalog,
                    city=settings.city_name,
                    path=settings.open_data_path,
                    hour=settings.open_data_hour,
                    owner=owner,
                )
                if rows is not None:
                    log.info("open data: %s rows written to %s", rows, settings.open_data_path)
            except Exception:
                log.exception("open data export failed")
            time.sleep(CHECK_SECONDS)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
