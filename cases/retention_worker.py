"""`python -m cases.retention_worker`: apply the retention policy on schedule, until stopped.

`make run` starts one on each machine. The job lock in the database lets only one of them run
at a time, and the interval counts from the last run on any machine, so adding machines does
not run the job more often.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from cases.db import make_engine, make_session_factory
from cases.models import utcnow
from cases.retention import Policy, RetentionBusy, run, sweep_model_files
from settings import Settings

log = logging.getLogger("civicline.retention")
CHECK_SECONDS = 60.0  # how often each machine asks whether the job is due
PAUSE = 0.05  # seconds between batches, so webhooks waiting for SQLite's lock get it


def policy_of(settings: Settings) -> Policy:
    """The policy the CIVICLINE_RETAIN_* settings ask for (0 switches a rule off)."""

    def age(days: float) -> timedelta | None:
        return timedelta(days=days) if days > 0 else None

    return Policy(
        transcripts=age(settings.retain_transcript_days),
        conversations=age(settings.retain_conversation_days),
        outbound=age(settings.retain_outbound_days),
        login_attempts=age(settings.retain_login_attempt_hours / 24),
        candidates=age(settings.retain_candidate_days),
        model_versions=max(settings.retain_model_versions, 0),
        batch_size=max(settings.retain_batch, 1),
    )


def tick(*, sessions: sessionmaker[Session], settings: Settings, owner: str) -> dict[str, int]:
    """Run the job if it is due and free; else delete this machine's pruned model folders."""
    try:
        with sessions() as db_session:
            return run(
                db_session=db_session,
                now=utcnow(),
                policy=policy_of(settings),
                model_dir=settings.model_dir,
                owner=owner,
                every=timedelta(minutes=settings.retain_every_minutes),
                pause=PAUSE,
            )
    except RetentionBusy:  # another machine ran it (its model folders are not ours)
        with sessions() as db_session:
            sweep_model_files(db_session=db_session, model_dir=settings.model_dir)
        return {}


def main() -> int:
    """Check every minute until SIGTERM/SIGINT (which ends a run between two batches)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s retention %(message)s")
    settings = Settings.from_env()
    if settings.retain_every_minutes <= 0:
        log.info("CIVICLINE_RETAIN_EVERY_MINUTES=0: no scheduled retention on this machine")
        return 0
    sessions = make_session_factory(make_engine(settings.database_url))
    owner = f"{socket.gethostname()}:{os.getpid()}"

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    log.info("retention worker started: every %s min", settings.retain_every_minutes)
    try:
        while True:
            try:
                counts = tick(sessions=sessions, settings=settings, owner=owner)
                if counts:
                    log.info("retention run: %s", counts)
            except Exception:  # a database hiccup: the next check tries again
                log.exception("retention run failed")
            time.sleep(min(CHECK_SECONDS, settings.retain_every_minutes * 60))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
