"""Inbound messages the bot could not answer at the time, kept until they are answered later.

A message lands here when the NLU was down or the webhook failed. A worker claims one at a
time under a lease with a random claim token; only the holder of the current token may mark
it done, in the same transaction that queues the resident's text, so the answer is sent once
however many workers run.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.models import DeferredMessage, Turn

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 48  # with the backoff below: about a day of trying
BACKOFF_CAP = timedelta(minutes=30)


def defer(
    *,
    db_session: Session,
    channel: str,
    sender: str,
    message_id: str,
    text: str,
    reason: str,
    now: datetime,
) -> DeferredMessage | None:
    """Keep a message to answer later (once per message id); calls are kept, not answered."""
    row = DeferredMessage(
        channel=channel,
        sender=sender,
        message_id=message_id,
        text=text,
        reason=reason,
        status="pending" if channel == "sms" else "kept",
        received_at=now,
        next_attempt_at=now,
    )
    try:
        with db_session.begin_nested():
            db_session.add(row)
    except IntegrityError:  # a Twilio retry of the same message got here first
        return None
    return row


def claim_next(*, db_session: Session, now: datetime) -> tuple[int, str] | None:
    """Claim the oldest due message (or one whose lease ran out): its id and our token."""
    due = or_(
        (DeferredMessage.status == "pending") & (DeferredMessage.next_attempt_at <= now),
        (DeferredMessage.status == "processing") & (DeferredMessage.lease_until < now),
    )
    candidate = db_session.scalars(
        select(DeferredMessage.id).where(due).order_by(DeferredMessage.id).limit(1)
    ).first()
    if candidate is None:
        return None
    token = secrets.token_hex(16)
    claimed = db_session.execute(
        update(DeferredMessage)
        .where(DeferredMessage.id == candidate, due)
        .values(
            status="processing",
            claim_token=token,
            lease_until=now + LEASE,
            attempts=DeferredMessage.attempts + 1,
        )
    )
    return (candidate, token) if claimed.rowcount == 1 else None


def finish(*, db_session: Session, message_id: int, token: str, status: str, now: datetime) -> bool:
    """Mark the message done/superseded if our claim still holds (else another worker has it)."""
    changed = db_session.execute(
        update(DeferredMessage)
        .where(
            DeferredMessage.id == message_id,
            DeferredMessage.claim_token == token,
            DeferredMessage.status == "processing",
        )
        .values(status=status, processed_at=now, claim_token=None, lease_until=None)
    )
    return changed.rowcount == 1


def release(*, db_session: Session, message_id: int, token: str, error: str, now: datetime) -> None:
    """Give a claim back to try later (NLU still down), with a growing wait; give up in a day."""
    row = db_session.get(DeferredMessage, message_id)
    if row is None or row.claim_token != token:
        return
    wait = min(timedelta(seconds=15 * 2 ** min(row.attempts, 10)), BACKOFF_CAP)
    row.status = "pending" if row.attempts < MAX_ATTEMPTS else "failed"
    row.claim_token, row.lease_until = None, None
    row.next_attempt_at = now + wait
    row.last_error = error[:256]


def answered_since(
    *, db_session: Session, sender: str, channel: str, since: datetime, own_message_id: str
) -> bool:
    """Whether the bot has answered this sender since (with the NLU working): then it's stale.

    The later answer's own turn (`own_message_id`) does not count: a worker that stopped after
    it must still queue its text.
    """
    return (
        db_session.scalars(
            select(Turn.id).where(
                Turn.channel == channel,
                Turn.received_at > since,
                Turn.nlu_error.is_(None),
                Turn.message_id != own_message_id,
                Turn.conversation.has(sender=sender),
            )
        ).first()
        is not None
    )
