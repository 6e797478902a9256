"""The handoff queue: conversations waiting for a person, taken, answered by SMS and closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.admin_models import User
from cases.audit import record
from cases.models import Conversation, OutboundMessage, utcnow
from cases.outbox import enqueue_sms
from cases.redact import redact


class HandoffError(ValueError):
    """A handoff action that does not fit the conversation's state."""


def queue(*, db_session: Session) -> list[Conversation]:
    """Conversations waiting for (or being handled by) a person, oldest first."""
    return list(
        db_session.scalars(
            select(Conversation)
            .where(Conversation.handoff_status.in_(("waiting", "taken")))
            .order_by(Conversation.handoff_requested_at, Conversation.id)
        )
    )


def take(
    *, db_session: Session, conversation: Conversation, user: User, now: datetime | None = None
) -> None:
    """Assign the conversation to this supervisor."""
    if conversation.handoff_status not in ("waiting", "taken"):
        raise HandoffError("this conversation is not in the handoff queue")
    now = now or utcnow()
    conversation.handoff_status = "taken"
    conversation.handoff_taken_by = user.id
    conversation.handoff_taken_at = now
    record(
        db_session=db_session,
        actor=user,
        action="handoff.take",
        target_type="conversation",
        target_id=conversation.id,
        now=now,
    )


def reply(
    *,
    db_session: Session,
    conversation: Conversation,
    user: User,
    text: str,
    now: datetime | None = None,
) -> OutboundMessage:
    """Text the resident from the console (queued in the outbox, in this transaction)."""
    text = redact(text.strip())
    if not text:
        raise HandoffError("write a message first")
    if len(text) > 1200:
        raise HandoffError("keep replies under 1,200 characters")
    if conversation.handoff_taken_by != user.id:
        take(db_session=db_session, conversation=conversation, user=user, now=now)
    now = now or utcnow()
    conversation.last_activity_at = now  # a staff reply keeps the conversation alive
    message = enqueue_sms(
        db_session=db_session,
        to=conversation.sender,
        body=text,
        reason="staff_reply",
        conversation_id=conversation.id,
        now=now,
    )
    record(
        db_session=db_session,
        actor=user,
        action="handoff.reply",
        target_type="conversation",
        target_id=conversation.id,
        now=now,
        detail={"outbound_message_id": message.id, "length": len(text)},
    )
    return message


def close(
    *, db_session: Session, conversation: Conversation, user: User, now: datetime | None = None
) -> None:
    """Finish the handoff: the bot answers this resident again."""
    if conversation.handoff_status not in ("waiting", "taken"):
        raise HandoffError("this conversation is not in the handoff queue")
    now = now or utcnow()
    conversation.handoff_status = "closed"
    conversation.handoff_closed_at = now
    record(
        db_session=db_session,
        actor=user,
        action="handoff.close",
        target_type="conversation",
        target_id=conversation.id,
        now=now,
    )
