"""The transactional outbox: text messages written with the change they report, sent later."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases.models import OutboundMessage, utcnow

LEASE = timedelta(seconds=60)  # a claimed message not finished by then is looked at again
MAX_ATTEMPTS = 8


def enqueue_sms(
    *,
    db_session: Session,
    to: str,
    body: str,
    reason: str,
    conversation_id: int | None = None,
    case_id: int | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """Add a text message to the outbox, inside the caller's transaction."""
    now = now or utcnow()
    message = OutboundMessage(
        to=to,
        body=body,
        reason=reason,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        conversation_id=conversation_id,
        case_id=case_id,
    )
    db_session.add(message)
    db_session.flush()
    return message


def claim_due(*, db_session: Session, now: datetime, limit: int = 10) -> list[OutboundMessage]:
    """Lease due messages (pending, or sending with an expired lease) to this worker."""
    query = (
        select(OutboundMessage)
        .where(
            or_(OutboundMessage.status == "pending", OutboundMessage.status == "sending"),
            OutboundMessage.next_attempt_at <= now,
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )
    if db_session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = list(db_session.scalars(query))
    for message in claimed:
        # A message still "sending" from an earlier claim may have reached the provider before
        # its worker died: the sender checks with the provider before sending it again.
        message.in_doubt = message.status == "sending"
        message.status = "sending"
        message.attempts += 1
        message.next_attempt_at = now + LEASE
    db_session.flush()
    return claimed


def mark_sent(message: OutboundMessage, *, provider_sid: str | None, now: datetime) -> None:
    """Record a message the provider accepted."""
    message.status = "sent"
    message.provider_sid = provider_sid
    message.sent_at = now
    message.last_error = None


def mark_failed(
    message: OutboundMessage, *, error: str, now: datetime, final: bool = False
) -> None:
    """Record a failed attempt: retry later with exponential backoff, or give up."""
    message.last_error = error[:1000]
    if final or message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        return
    message.status = "pending"
    message.next_attempt_at = now + timedelta(seconds=min(5 * 2 ** (message.attempts - 1), 3600))
