"""`python -m outbound.digest_worker`: e-mail each agency's overdue digest once a day.

Every machine runs one (`make run`); the `overdue_digest` job lock lets exactly one of them
send it once the day's CIVICLINE_DIGEST_HOUR (UTC) has passed. Without CIVICLINE_SMTP_URL and
CIVICLINE_DIGEST_TO the worker exits: staff read the same lists at /console/overdue.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from cases.daily import run_once_a_day
from cases.db import make_engine, make_session_factory
from cases.deadlines import HOLIDAYS_FILE, CityCalendar
from cases.models import utcnow
from outbound.digest import send_digests
from outbound.loop import run_until_stopped
from settings import Settings

log = logging.getLogger("civicline.digest")
JOB = "overdue_digest"
LEASE = timedelta(hours=1)
CHECK_SECONDS = 60.0


def tick(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    calendar: CityCalendar,
    owner: str,
    now: datetime | None = None,
) -> int | None:
    """Send today's digests if due and this machine wins the lock: e-mails sent, else None."""
    now = now or utcnow()

    def work() -> dict[str, object]:
        with sessions() as db_session:
            sent = send_digests(
                settings=settings, db_session=db_session, calendar=calendar, now=now
            )
        return {"emails": sent}

    done = run_once_a_day(
        sessions=sessions,
        name=JOB,
        hour=settings.digest_hour,
        owner=owner,
        lease=LEASE,
        work=work,
        now=now,
    )
    return None if done is None else int(done["emails"])


def main() -> int:
    """Check every minute until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s digest %(message)s")
    settings = Settings.from_env()
    if not (settings.smtp_url and settings.digest_to):
        log.info("CIVICLINE_SMTP_URL/CIVICLINE_DIGEST_TO are not set: no e-mailed digest here")
        return 0
    sessions = make_session_factory(make_engine(settings.database_url))
    calendar = CityCalendar.load(settings.data_dir / HOLIDAYS_FILE.name, settings.timezone)
    owner = f"{socket.gethostname()}:{os.getpid()}"

    def one_pass() -> float:
        sent = tick(sessions=sessions, settings=settings, calendar=calendar, owner=owner)
        if sent is not None:
            log.info("overdue digest: %d e-mail(s) sent", sent)
        return CHECK_SECONDS

    return run_until_stopped(one_pass, name="digest", log=log, pause_after_error=CHECK_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
