"""The transactional outbox: text messages written with the change they report, sent later.

Guarantees (the worker in outbound/ relies on them):
- a message is leased to one worker at a time: each claim writes a fresh random token, and
  every later write (renewing the lease before a send, recording sent/failed/retry) is one
  UPDATE ... WHERE id = :id AND claim_token = :token, so a worker whose lease was taken over
  can neither send nor record anything;
- a message whose last send may have reached the provider without its outcome being recorded
  stays `in_doubt` until the provider has been asked; no path back to `pending` clears it;
- retries follow RETRY_SCHEDULE (exponential backoff with jitter) for GIVE_UP_AFTER, then the
  message is `failed`, so nothing waits forever and nothing is dropped silently.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

import telemetry
from cases.models import OutboundMessage, utcnow

LEASE = timedelta(seconds=60)  # longer than a send may take (the Twilio client times out at 15 s)
GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
JITTER = 0.2  # each delay is scaled by a random factor in [0.8, 1.2]
CLIENT_ERROR_ATTEMPTS = 5  # a 4xx code we do not know is tried this many times, then reported
RETRY_SCHEDULE = (
    "retry n waits min(30 s * 2^(n-1), 1 h) * U(0.8, 1.2): ~30 s, 1, 2, 4, 8, 16, 32 min, then "
    "about hourly; failed (and reported) 24 h after queueing"
)

Failure = Literal["retry", "client", "permanent"]
_open = or_(OutboundMessage.status == "pending", OutboundMessage.status == "sending")


@dataclass(frozen=True)
class Claim:
    """One message leased to one worker; `token` proves the lease is still this worker's."""

    id: int
    token: str
    to: str
    body: str
    attempt: int
    in_doubt: bool
    created_at: datetime
    request_id: str | None = None  # the request that queued it, for the worker's log line


def enqueue_sms(
    *,
    db_session: Session,
    to: str,
    body: str,
    reason: str,
    conversation_id: int | None = None,
    case_id: int | None = None,
    now: datetime | None = None,
    send_at: datetime | None = None,
    give_up_at: datetime | None = None,
) -> OutboundMessage:
    """Add a text message to the outbox, inside the caller's transaction.

    `send_at` holds it back until then (e.g. local daytime); retries stop at `give_up_at`
    (GIVE_UP_AFTER after `send_at` unless given, and never before `send_at`).
    """
    now = now or utcnow()
    first = max(send_at or now, now)
    last = give_up_at or first + GIVE_UP_AFTER
    if last <= first:
        raise ValueError("an outbox message must be allowed some time to be sent")
    message = OutboundMessage(
        to=to,
        body=body,
        reason=reason,
        status="pending",
        attempts=0,
        next_attempt_at=first,
        created_at=now,
        give_up_at=last,
        conversation_id=conversation_id,
        case_id=case_id,
        request_id=telemetry.request_id(),
    )
    db_session.add(message)
    db_session.flush()
    return message


def claim_due(*, db_session: Session, now: datetime, limit: int = 1) -> list[Claim]:
    """Lease due messages (pending, or sending with an expired lease), each with its own token.

    The worker claims one message at a time, right before sending it, so no claim waits its
    turn behind slow sends until its lease has run out.
    """
    query = (
        select(OutboundMessage.id)
        .where(_open, OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )
    if db_session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    for message_id in list(db_session.scalars(query)):
        token = secrets.token_hex(16)
        # A message still "sending" from an expired lease may have reached the provider before
        # its worker died: it becomes in doubt, and stays so until the provider is asked.
        claimed = db_session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id == message_id,
                _open,
                OutboundMessage.next_attempt_at <= now,
            )
            .values(
                in_doubt=case(
                    (OutboundMessage.status == "sending", True), else_=OutboundMessage.in_doubt
                ),
                status="sending",
                claim_token=token,
                attempts=OutboundMessage.attempts + 1,
                next_attempt_at=now + LEASE,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # another worker got there first
            continue
        row = db_session.execute(
            select(
                OutboundMessage.to,
                OutboundMessage.body,
                OutboundMessage.attempts,
                OutboundMessage.in_doubt,
                OutboundMessage.created_at,
                OutboundMessage.request_id,
            ).where(OutboundMessage.id == message_id)
        ).one()
        claims.append(Claim(message_id, token, row.to, row.body, row.attempts, *row[3:]))
    return claims


def _ours(claim: Claim):  # type: ignore[no-untyped-def]
    """The UPDATE condition that this claim still holds the message's lease."""
    return update(OutboundMessage).where(
        OutboundMessage.id == claim.id,
        OutboundMessage.claim_token == claim.token,
        OutboundMessage.status == "sending",
    )


def _write(db_session: Session, statement) -> bool:  # type: ignore[no-untyped-def]
    """Run a guarded UPDATE; True when it changed the row."""
    return bool(db_session.execute(statement.execution_options(synchronize_session=False)).rowcount)


def begin_send(*, db_session: Session, claim: Claim, now: datetime) -> bool:
    """Right before the provider call: renew the lease and mark the outcome unknown until known.

    False means the lease was taken over (or the message finished): do not send.
    """
    return _write(db_session, _ours(claim).values(next_attempt_at=now + LEASE, in_doubt=True))


def record_sent(
    *,
    db_session: Session,
    claim: Claim,
    provider_sid: str | None,
    now: datetime,
    dry_run: bool = False,
) -> bool:
    """Record a message the provider accepted (or found), under this claim's lease.

    A send confirmed after the lease was taken over is still recorded while the message is
    open, so the new holder's begin_send fails instead of sending it again.
    """
    values = {
        "status": "dry_run" if dry_run else "sent",
        "provider_sid": provider_sid,
        "sent_at": now,
        "last_error": None,
        "in_doubt": False,
        "claim_token": None,
    }
    if _write(db_session, _ours(claim).values(**values)):
        return True
    late = update(OutboundMessage).where(OutboundMessage.id == claim.id, _open)
    return _write(db_session, late.values(**values))


def retry_delay(retry: int, rng: random.Random | None = None) -> timedelta:
    """The wait before retry number `retry` (1-based): exponential, capped, with jitter."""
    base = min(FIRST_RETRY * 2 ** min(retry - 1, 20), MAX_RETRY)
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def record_failure(
    *,
    db_session: Session,
    claim: Claim,
    error: str,
    now: datetime,
    kind: Failure = "retry",
    in_doubt: bool = False,
) -> str | None:
    """Record a failed attempt under this claim's lease: `pending` again, or `failed` for good.

    Returns the new status, or None when the lease was no longer this claim's. `in_doubt` says
    whether the provider may have the message after all (a timeout, a 5xx, a failed look-up);
    the next claim then asks the provider before sending.
    """
    message = db_session.get(OutboundMessage, claim.id, populate_existing=True)
    if message is None or message.claim_token != claim.token or message.status != "sending":
        return None
    client_errors = message.client_errors + (kind == "client")
    give_up_at = message.give_up_at or message.created_at + GIVE_UP_AFTER
    final = kind == "permanent" or client_errors >= CLIENT_ERROR_ATTEMPTS or now >= give_up_at
    status = "failed" if final else "pending"
    changed = _write(
        db_session,
        _ours(claim).values(
            status=status,
            last_error=error[:1000],
            client_errors=client_errors,
            in_doubt=in_doubt,
            next_attempt_at=min(now + retry_delay(message.attempts), give_up_at),
            claim_token=None,
        ),
    )
    return status if changed else None


def requeue(*, db_session: Session, message_id: int, now: datetime) -> OutboundMessage:
    """An operator's retry of a failed message: pending again for another day, still in doubt.

    The in-doubt flag is kept, so a message that may have reached the provider is looked up
    there before it is sent again.
    """
    message = db_session.get(OutboundMessage, message_id)
    if message is None or message.status != "failed":
        raise ValueError(f"outbox message {message_id} is not failed")
    message.status = "pending"
    message.next_attempt_at = now
    message.give_up_at = now + GIVE_UP_AFTER
    message.client_errors = 0
    message.claim_token = None
    db_session.flush()
    return message


def note_blocked(*, db_session: Session, error: str, now: datetime) -> int:
    """Write why nothing is being sent on every due pending message; returns how many wait."""
    result = db_session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= now)
        .values(last_error=error)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def sids_sent_to(*, db_session: Session, to: str, other_than: int) -> set[str]:
    """Provider ids already recorded for other messages to this number (not proof of this one)."""
    return {
        sid
        for sid in db_session.scalars(
            select(OutboundMessage.provider_sid).where(
                OutboundMessage.to == to,
                OutboundMessage.id != other_than,
                OutboundMessage.provider_sid.is_not(None),
            )
        )
        if sid
    }
