"""`python -m outbound.worker`: send due outbox messages, retrying with backoff, until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cases.conversations import is_opted_out
from cases.db import make_engine, make_session_factory
from cases.models import OutboundMessage, utcnow
from cases.outbox import claim_due, mark_failed, mark_sent
from outbound.sender import DryRunSender, SendError, SmsSender, TwilioSender
from settings import Settings

log = logging.getLogger("civicline.outbound")


def deliver_due(
    *,
    session_factory: sessionmaker[Session],
    sender: SmsSender,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 10,
) -> int:
    """Send what is due now; returns how many messages were attempted."""
    with session_factory() as db_session, db_session.begin():
        claimed = [m.id for m in claim_due(db_session=db_session, now=clock(), limit=limit)]
    for message_id in claimed:
        with session_factory() as db_session, db_session.begin():
            message = db_session.get(OutboundMessage, message_id)
            if message is None or message.status != "sending":
                continue
            if is_opted_out(db_session=db_session, phone=message.to):
                mark_failed(message, error="recipient opted out (STOP)", now=clock(), final=True)
                continue
            to, body, attempt = message.to, message.body, message.attempts
            in_doubt, created = message.in_doubt, message.created_at
        # Send outside any transaction, so a slow provider never holds the database lock.
        outcome: SendError | str
        try:
            already = sender.find_sent(to, body, since=created) if in_doubt else None
            outcome = already or sender.send(to, body)
        except SendError as exc:
            log.warning("outbox %s attempt %s failed: %s", message_id, attempt, exc)
            outcome = exc
        with session_factory() as db_session, db_session.begin():
            message = db_session.get(OutboundMessage, message_id)
            if message is None:
                continue
            if isinstance(outcome, SendError):
                mark_failed(message, error=str(outcome), now=clock(), final=outcome.permanent)
            else:
                mark_sent(message, provider_sid=outcome, now=clock())
    return len(claimed)


def make_sender(settings: Settings) -> SmsSender:
    """Twilio when credentials and a sending number are configured, else the dry-run log."""
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.sms_from:
        return TwilioSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.sms_from,
            settings.twilio_api_url,
        )
    log.warning("CIVICLINE_SMS_FROM or Twilio credentials missing: outbound texts are only logged")
    return DryRunSender()


def main(poll_seconds: float = 1.0) -> int:
    """Run until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s outbound %(message)s")
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    sender = make_sender(settings)
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("outbox worker started")
    while running:
        try:
            if deliver_due(session_factory=sessions, sender=sender) == 0:
                time.sleep(poll_seconds)
        except Exception:  # keep the worker alive through a database hiccup; it retries
            log.exception("outbox pass failed")
            time.sleep(poll_seconds * 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
