"""Jobs that run once a day on one machine: every machine asks, a job lock lets one run it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cases import locks
from cases.models import utcnow


def scheduled(now: datetime, hour: int) -> datetime:
    """The latest scheduled start at or before now: today's `hour`:00 UTC, else yesterday's."""
    today = now.replace(hour=hour % 24, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def run_once_a_day(
    *,
    sessions: sessionmaker[Session],
    name: str,
    hour: int,
    owner: str,
    lease: timedelta,
    work: Callable[[], dict[str, Any]],
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Run `work` if today's run is due and this machine wins the lock: its result, else None.

    Due when the last start (any machine's) was at or before the latest scheduled time; the
    result (or the error) is recorded with the lock, and a run that died frees it by `lease`.
    """
    now = now or utcnow()
    every = now - scheduled(now, hour)
    with sessions() as db_session:
        claimed = locks.acquire(
            db_session=db_session, name=name, owner=owner, now=now, lease=lease, every=every
        )
        db_session.commit()
    if not claimed:
        return None
    result: dict[str, Any] = {}
    try:
        result = work()
    except Exception as exc:  # recorded; tomorrow's run tries again
        result = {"error": str(exc)[:500]}
        raise
    finally:
        with sessions() as db_session:
            locks.release(
                db_session=db_session, name=name, owner=owner, now=utcnow(), result=result
            )
            db_session.commit()
    return result
