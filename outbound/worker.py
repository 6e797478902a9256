"""`python -m outbound.worker`: send due outbox messages, retrying with backoff, until stopped.

Logs name messages by outbox id, never by phone number or text.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cases.conversations import is_opted_out
from cases.db import make_engine, make_session_factory
from cases.models import utcnow
from cases.outbox import (
    RETRY_SCHEDULE,
    Claim,
    begin_send,
    claim_due,
    note_blocked,
    record_failure,
    record_sent,
    sids_sent_to,
)
from outbound.loop import run_until_stopped
from outbound.sender import DryRunSender, SendError, SmsSender, TwilioSender
from settings import Settings

log = logging.getLogger("civicline.outbound")
NOT_CONFIGURED = (
    "outbound texts are NOT being sent: set CIVICLINE_SMS_FROM (or "
    "CIVICLINE_SMS_MESSAGING_SERVICE_SID), TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; "
    "texts wait in the outbox until then"
)


class SenderConfigError(RuntimeError):
    """The settings ask for something the worker must refuse (a dry run in production)."""


def deliver_due(
    *,
    session_factory: sessionmaker[Session],
    sender: SmsSender,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 10,
) -> int:
    """Send up to `limit` due messages, claiming each right before its send; returns how many."""
    attempted = 0
    for _ in range(limit):
        with session_factory() as db_session, db_session.begin():
            claims = claim_due(db_session=db_session, now=clock(), limit=1)
            if not claims:
                break
            claim = claims[0]
            opted_out = is_opted_out(db_session=db_session, phone=claim.to)
            known = (
                sids_sent_to(db_session=db_session, to=claim.to, other_than=claim.id)
                if claim.in_doubt
                else set()
            )
        attempted += 1
        if opted_out:
            stop = SendError(
                "recipient opted out (STOP)", kind="permanent", in_doubt=claim.in_doubt
            )
            _record_failure(session_factory, claim, stop, clock)
        else:
            _deliver(session_factory, sender, claim, clock, known)
    return attempted


def _deliver(
    session_factory: sessionmaker[Session],
    sender: SmsSender,
    claim: Claim,
    clock: Callable[[], datetime],
    known: set[str],
) -> None:
    """Look an in-doubt message up at Twilio, then send it only if the lease is still ours."""
    if claim.in_doubt:
        try:
            found = sender.find_sent(claim.to, claim.body, since=claim.created_at, exclude=known)
        except SendError as exc:  # cannot tell whether it went out: try again later, in doubt
            _record_failure(session_factory, claim, exc, clock)
            return
        if found:
            with session_factory() as db_session, db_session.begin():
                record_sent(db_session=db_session, claim=claim, provider_sid=found, now=clock())
            log.info(
                "outbox message %d was already at Twilio (%s): not sent again", claim.id, found
            )
            return
    with session_factory() as db_session, db_session.begin():
        ours = begin_send(db_session=db_session, claim=claim, now=clock())
    if not ours:
        log.info("outbox message %d: lease taken over by another worker, not sending", claim.id)
        return
    # Send outside any transaction, so a slow provider never holds the database lock.
    try:
        sid = sender.send(claim.to, claim.body)
    except SendError as exc:
        _record_failure(session_factory, claim, exc, clock)
        return
    with session_factory() as db_session, db_session.begin():
        recorded = record_sent(
            db_session=db_session,
            claim=claim,
            provider_sid=sid or None,
            now=clock(),
            dry_run=sender.dry_run,
        )
    if not recorded:
        log.error("outbox message %d: sent as %s, but it was already finished", claim.id, sid)
        return
    log.info(
        "outbox message %d sent as %s (attempt %d, request %s)",
        claim.id,
        sid or "dry run",
        claim.attempt,
        claim.request_id or "-",
    )


def _record_failure(
    session_factory: sessionmaker[Session],
    claim: Claim,
    exc: SendError,
    clock: Callable[[], datetime],
) -> None:
    """Record a failed attempt and report a message that has failed for good."""
    with session_factory() as db_session, db_session.begin():
        status = record_failure(
            db_session=db_session,
            claim=claim,
            error=str(exc),
            now=clock(),
            kind=exc.kind,
            in_doubt=exc.in_doubt,
        )
    if status == "failed":
        log.error(
            "outbox message %d failed for good after %d attempt(s)%s: %s",
            claim.id,
            claim.attempt,
            " (may have reached Twilio)" if exc.in_doubt else "",
            exc,
        )
    elif status == "pending":
        log.warning("outbox message %d attempt %d failed: %s", claim.id, claim.attempt, exc)
    else:
        log.info("outbox message %d: lease taken over; this outcome was not recorded", claim.id)


def make_sender(settings: Settings) -> SmsSender | None:
    """Twilio when configured, the dry-run log in development if asked for, else None."""
    if settings.sms_dry_run:
        if settings.env != "development":
            raise SenderConfigError(
                "CIVICLINE_SMS_DRY_RUN is refused unless CIVICLINE_ENV=development "
                f"(it is {settings.env}): a dry run drops every text"
            )
        log.warning("DRY RUN (CIVICLINE_ENV=development): texts are logged, NOT sent")
        return DryRunSender()
    if (
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.sms_from or settings.sms_messaging_service_sid)
    ):
        return TwilioSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.sms_from,
            settings.twilio_api_url,
            messaging_service_sid=settings.sms_messaging_service_sid,
        )
    return None


def report_blocked(session_factory: sessionmaker[Session], now: datetime) -> int:
    """Note on each waiting text why it is not sent; returns how many wait."""
    with session_factory() as db_session, db_session.begin():
        return note_blocked(db_session=db_session, error=NOT_CONFIGURED, now=now)


def main(poll_seconds: float = 1.0) -> int:
    """Run until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s outbound %(message)s")
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        sender = make_sender(settings)
    except SenderConfigError as exc:
        log.error("refusing to start: %s", exc)
        return 2
    if sender is None:
        log.error(NOT_CONFIGURED)
    log.info("outbox worker started; retries: %s", RETRY_SCHEDULE)
    reported_at = 0.0

    def one_pass() -> float:
        nonlocal reported_at
        if sender is None:
            waiting = report_blocked(sessions, utcnow())
            if waiting and time.monotonic() - reported_at > 300:
                log.error("%d text(s) waiting: %s", waiting, NOT_CONFIGURED)
                reported_at = time.monotonic()
            return poll_seconds * 5
        return 0 if deliver_due(session_factory=sessions, sender=sender) else poll_seconds

    return run_until_stopped(
        one_pass,
        name="outbox",
        log=log,
        pause_after_error=poll_seconds * 5,
    )


if __name__ == "__main__":
    sys.exit(main())
