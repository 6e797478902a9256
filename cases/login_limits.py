"""Sign-in throttling that backs off instead of locking accounts, measured from login_attempts.

The policy (every worker reads the same table, so it holds across workers and machines):

1. Per address: after 20 failures in 15 minutes from one address (any user names), that
   address is refused until its failures age out. This is the guesser's own address (which
   one is decided by ProxyFix and CIVICLINE_TRUSTED_PROXIES), never an account.
2. Per (user name, address): the first 5 failures are free; after n >= 5, the next attempt
   must wait 30 s x 2^(n - 5), at most 15 minutes, from the pair's last failure. Failures
   count for 24 hours, and only since the pair's last success.
3. Per user name: with 10 or more failures in 15 minutes from all addresses together the name
   is under attack, and every address gets only 1 free failure before its own backoff starts,
   so guessing spread over many addresses slows down too.

What it never does is refuse a user name from an address that has not failed for it (unless
rule 1 holds for that address): however long someone guesses at `admin`, the real admin's
correct password from their own address is checked and accepted. Refused attempts are not
recorded, so retrying early does not lengthen the wait.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.admin_models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_IP = 20
FREE_FAILURES = 5
FREE_FAILURES_UNDER_ATTACK = 1
UNDER_ATTACK = 10  # failures for one user name in WINDOW, from all addresses
PAIR_MEMORY = timedelta(hours=24)
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)


class RateLimited(Exception):
    """Too many failed sign-ins from here; `retry_after` seconds until the next is checked."""

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        wait = (
            f"{self.retry_after} seconds"
            if self.retry_after < 120
            else f"{math.ceil(self.retry_after / 60)} minutes"
        )
        super().__init__(f"too many failed sign-ins; try again in {wait}")


def backoff(failures: int, free: int) -> timedelta:
    """How long after the last failure the next attempt must wait (zero while still free)."""
    if failures < free:
        return timedelta(0)
    return min(MAX_WAIT, FIRST_WAIT * 2 ** min(failures - free, 16))


def check(*, db_session: Session, username: str, ip: str, now: datetime) -> None:
    """Raise RateLimited if this attempt comes too soon; see the module's policy."""
    failed = (LoginAttempt.success.is_(False), LoginAttempt.at >= now - WINDOW)
    by_ip = db_session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == ip, *failed)
    )
    if (by_ip or 0) >= MAX_FAILURES_PER_IP:
        # refused until enough of this address's failures leave the window
        freed = db_session.scalar(
            select(LoginAttempt.at)
            .where(LoginAttempt.ip == ip, *failed)
            .order_by(LoginAttempt.at)
            .offset((by_ip or 0) - MAX_FAILURES_PER_IP)
            .limit(1)
        )
        raise RateLimited(((freed or now) + WINDOW - now).total_seconds())

    pair = (LoginAttempt.username == username, LoginAttempt.ip == ip)
    last_success = db_session.scalar(
        select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.success.is_(True))
    )
    since = max(now - PAIR_MEMORY, last_success or now - PAIR_MEMORY)
    failures, last_failure = db_session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *pair, LoginAttempt.success.is_(False), LoginAttempt.at > since
        )
    ).one()
    if not failures:
        return  # a fresh address for this name is always checked
    by_name = db_session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == username, *failed)
    )
    free = FREE_FAILURES_UNDER_ATTACK if (by_name or 0) >= UNDER_ATTACK else FREE_FAILURES
    ready_at = last_failure + backoff(failures, free)
    if now < ready_at:
        raise RateLimited((ready_at - now).total_seconds())
