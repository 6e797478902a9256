"""Conversation, turn and opt-out functions used by the dialogue engine."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cases.db import plain_rows
from cases.models import Conversation, OptOut, ResidentLanguage, Turn

# The per-message queries, built once: SQLAlchemy then reuses their compiled SQL and cache key.
TURN_BY_MESSAGE = select(Turn).where(Turn.message_id == bindparam("message_id"))
TURN_ID_BY_MESSAGE = select(Turn.id).where(Turn.message_id == bindparam("message_id"))
_ACTIVE_SENDER = (
    Conversation.channel == bindparam("channel"),
    Conversation.sender == bindparam("sender"),
    Conversation.status == "active",
)
ACTIVE = select(Conversation).where(*_ACTIVE_SENDER)
ACTIVE_VIEW = select(
    Conversation.id,
    Conversation.language,
    Conversation.state,
    Conversation.handoff_status,
    Conversation.last_activity_at,
    # whether anything was said in it yet (the language choice asks): in the same statement
    exists().where(Turn.conversation_id == Conversation.id).label("said"),
).where(*_ACTIVE_SENDER)
# Inside the turn's write transaction: fresh from the row, never the copy an earlier read left.
ACTIVE_FRESH = ACTIVE.execution_options(populate_existing=True)
ACTIVE_LOCKED = ACTIVE_FRESH.with_for_update()
ANY_TURN = select(Turn.id).where(Turn.conversation_id == bindparam("conversation_id")).limit(1)
LANGUAGE_OF = select(ResidentLanguage.language).where(ResidentLanguage.phone == bindparam("phone"))
OPTED_OUT = select(OptOut.phone).where(OptOut.phone == bindparam("phone"))
CALL = select(Conversation).where(Conversation.call_sid == bindparam("call_sid"))


def find_turn(*, db_session: Session, message_id: str) -> Turn | None:
    """The stored turn for a Twilio message id, if this message was handled before."""
    return db_session.scalars(TURN_BY_MESSAGE, {"message_id": message_id}).first()


def handled_before(*, db_session: Session, message_id: str) -> bool:
    """Whether a Twilio message id has a stored turn (every message asks; only retries have)."""
    # on the connection, not the session: a plain row, none of the ORM's execution path
    found = db_session.connection().execute(TURN_ID_BY_MESSAGE, {"message_id": message_id})
    return found.first() is not None


def close_conversation(conversation: Conversation, *, reason: str, now: datetime) -> None:
    """Mark a conversation closed (the row stays for review)."""
    conversation.status = "closed"
    conversation.ended_at = now
    conversation.end_reason = reason


class ConversationView(Protocol):
    """What is read of a live conversation before the turn's transaction (an ORM object or a
    plain row: the reading takes no lock and changes nothing)."""

    id: int
    language: str
    state: dict
    handoff_status: str
    last_activity_at: datetime


def _live(conversation: ConversationView | None, now: datetime, timeout: timedelta) -> bool:
    """Whether a conversation carries on (a stale one is closed by the next message)."""
    if conversation is None:
        return False
    stale = now - conversation.last_activity_at > timeout
    return not stale or conversation.handoff_status in ("waiting", "taken")


def live_conversation(
    *,
    db_session: Session,
    channel: str,
    sender: str,
    call_sid: str | None,
    now: datetime,
    timeout: timedelta,
) -> ConversationView | None:
    """The sender's conversation that carries on with this message (a call's own), or None.

    A plain row of the five columns the reading needs, not an object: the turn's transaction
    reads the conversation afresh under its lock anyway.
    """
    if call_sid:
        return find_call(db_session=db_session, call_sid=call_sid)
    params = {"channel": channel, "sender": sender}
    conversation = plain_rows(db_session, ACTIVE_VIEW, params, model=Conversation).first()
    return conversation if _live(conversation, now, timeout) else None  # type: ignore[return-value]


def current_language(
    *, db_session: Session, conversation: ConversationView | None, sender: str
) -> tuple[str | None, bool]:
    """The language of the sender's live conversation, and whether nothing was said in it yet.

    conversation: the live one (`live_conversation`). With none: the language the number last
    used (None if never seen), True.
    """
    if conversation is None:
        return remembered_language(db_session=db_session, phone=sender), True
    said = getattr(conversation, "said", None)  # read with the row (ACTIVE_VIEW); a call's: ask
    if said is None:
        turn = db_session.connection().execute(ANY_TURN, {"conversation_id": conversation.id})
        said = turn.first() is not None
    return conversation.language, not said


def remembered_language(*, db_session: Session, phone: str) -> str | None:
    """The language a number last used (None: never seen)."""
    known = db_session.identity_map.get(identity_key(ResidentLanguage, phone))
    if known is not None:  # the session's copy wins: it may hold a change not yet flushed
        return known.language
    return db_session.connection().execute(LANGUAGE_OF, {"phone": phone}).scalar()


def _remember_statement(dialect: str):  # type: ignore[no-untyped-def]
    """INSERT ... ON CONFLICT DO UPDATE for the dialect (SQLite and PostgreSQL spell it alike)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ResidentLanguage)
    new, table = stmt.excluded, ResidentLanguage.__table__.c
    return stmt.on_conflict_do_update(
        index_elements=[table.phone],
        set_={"language": new.language, "chosen": new.chosen, "updated_at": new.updated_at},
        where=(table.language != new.language) | (new.chosen & ~table.chosen),
    )


_REMEMBER = {name: _remember_statement(name) for name in ("sqlite", "postgresql")}


def remember_language(
    *, db_session: Session, phone: str, language: str, chosen: bool, now: datetime
) -> None:
    """Keep the language a number used for its next conversation (chosen: asked for by name).

    One upsert that writes only on a change, not a read and then a write: it runs on every turn.
    """
    stmt = _REMEMBER[db_session.get_bind().dialect.name]
    row = {"phone": phone, "language": language, "chosen": chosen, "updated_at": now}
    db_session.connection().execute(stmt, row)
    key = identity_key(ResidentLanguage, phone)
    if (known := db_session.identity_map.get(key)) is not None:
        db_session.expire(known)  # read earlier in this session: read it afresh if asked again


def open_conversation(
    *, db_session: Session, channel: str, sender: str, now: datetime, timeout: timedelta
) -> Conversation:
    """The sender's active conversation on this channel, closing a stale one and starting anew.

    A conversation waiting for, or taken by, a person never goes stale: the resident's next
    text must reach the staff member, however long the queue took.
    """
    query = ACTIVE_LOCKED if db_session.get_bind().dialect.name == "postgresql" else ACTIVE_FRESH
    conversation = db_session.scalars(query, {"channel": channel, "sender": sender}).first()
    if conversation is not None and not _live(conversation, now, timeout):
        close_conversation(conversation, reason="timeout", now=now)
        db_session.flush()
        conversation = None
    if conversation is None:
        conversation = Conversation(
            channel=channel,
            sender=sender,
            status="active",
            state={},
            started_at=now,
            last_activity_at=now,
        )
        # written with the turn's own flush, state and all: one INSERT, not an INSERT and an
        # UPDATE (a turn that needs the id first asks `stored`)
        db_session.add(conversation)
    return conversation


def stored(db_session: Session, conversation: Conversation) -> Conversation:
    """The conversation with its id: one opened in this turn is written now, not at the end."""
    if conversation.id is None:
        db_session.flush()
    return conversation


def request_handoff(conversation: Conversation, *, reason: str, now: datetime) -> None:
    """Put the conversation in the queue for a human (keeps the first request time)."""
    if conversation.handoff_status != "waiting":
        conversation.handoff_status = "waiting"
        conversation.handoff_requested_at = now
        conversation.handoff_reason = reason


def set_opt_out(*, db_session: Session, phone: str, keyword: str | None, now: datetime) -> None:
    """Record an opt-out (keyword given) or remove it (keyword None)."""
    existing = db_session.get(OptOut, phone)
    if keyword is None:
        if existing is not None:
            db_session.delete(existing)
    elif existing is None:
        db_session.add(OptOut(phone=phone, keyword=keyword, opted_out_at=now))


def is_opted_out(*, db_session: Session, phone: str) -> bool:
    """Whether the number has opted out of messages (asked of every "yes" and every text sent)."""
    return plain_rows(db_session, OPTED_OUT, {"phone": phone}, model=OptOut).first() is not None


def find_call(*, db_session: Session, call_sid: str) -> Conversation | None:
    """The conversation of a phone call."""
    return db_session.scalars(CALL, {"call_sid": call_sid}).first()


def open_call(*, db_session: Session, call_sid: str, caller: str, now: datetime) -> Conversation:
    """The call's conversation, created on its first webhook (one conversation per call)."""
    conversation = find_call(db_session=db_session, call_sid=call_sid)
    if conversation is not None:
        return conversation
    for stale in db_session.scalars(
        select(Conversation).where(
            Conversation.channel == "voice",
            Conversation.sender == caller,
            Conversation.status == "active",
        )
    ):
        close_conversation(stale, reason="superseded", now=now)
    db_session.flush()
    conversation = Conversation(
        channel="voice",
        sender=caller,
        status="active",
        state={},
        call_sid=call_sid,
        started_at=now,
        last_activity_at=now,
    )
    db_session.add(conversation)
    db_session.flush()
    return conversation
