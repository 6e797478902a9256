"""Typed SQLAlchemy models of the store, named with Open311 GeoReport v2 vocabulary for cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back time-zone aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, UTC, time-zone aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the store's type map and constraint naming convention."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(Base):
    """One resident's exchange on one channel, until it ends or goes quiet."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    handoff_status: Mapped[str] = mapped_column(
        String(16), default="none"
    )  # none|waiting|taken|closed
    handoff_requested_at: Mapped[datetime | None]
    handoff_reason: Mapped[str | None] = mapped_column(String(64))
    call_sid: Mapped[str | None] = mapped_column(String(64))  # voice calls only
    duration_seconds: Mapped[int | None]
    handoff_taken_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handoff_taken_at: Mapped[datetime | None]
    handoff_closed_at: Mapped[datetime | None]
    # transcript, state and phone number blanked by the retention job (docs/retention.md)
    redacted_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    turns: Mapped[list[Turn]] = relationship(back_populates="conversation", order_by="Turn.id")

    __table_args__ = (
        # At most one active conversation per channel and sender, enforced by the database.
        Index(
            "uq_conversations_active_sender",
            "channel",
            "sender",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_conversations_handoff", "handoff_status", "handoff_requested_at"),
        Index("uq_conversations_call_sid", "call_sid", unique=True),
        Index("ix_conversations_last_activity", "last_activity_at"),
        Index("ix_conversations_started_at", "started_at"),  # dashboard, list date filters
        # retention: closed conversations by end (deletion), and not yet redacted (redaction)
        Index("ix_conversations_ended", "status", "ended_at"),
        Index("ix_conversations_unredacted", "status", "redacted_at", "ended_at"),
        Index("ix_conversations_language", "language"),  # console filter, volume by language
    )


class Case(Base):
    """A service request, with Open311 GeoReport v2 field names."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_request_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    service_code: Mapped[str] = mapped_column(String(64), index=True)
    service_name: Mapped[str] = mapped_column(String(128))
    # cases.enums.CaseStatus: received | assigned | in_progress | reopened | closed
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    status_notes: Mapped[str | None] = mapped_column(Text)  # the public note: published
    internal_notes: Mapped[str | None] = mapped_column(Text)  # staff only, never published
    agency_responsible: Mapped[str] = mapped_column(String(128))
    service_notice: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_datetime: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # every change a client can see sets it (Open311's updated_after, open data's filters)
    updated_datetime: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expected_datetime: Mapped[datetime | None]
    # the service level (cases/deadlines.py): resolve by the end of the N-th business day,
    # acknowledge within so many hours of filing; staff may move the due date, with a reason
    due_datetime: Mapped[datetime | None]
    acknowledge_by: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(16))  # sms | voice | open311
    contact_phone: Mapped[str | None] = mapped_column(String(64))  # personal data: never published
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en", index=True)
    contact_email: Mapped[str | None] = mapped_column(String(256))  # personal data
    contact_name: Mapped[str | None] = mapped_column(String(256))  # personal data
    media_url: Mapped[str | None] = mapped_column(String(1024))
    address_id: Mapped[str | None] = mapped_column(String(128))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(128))  # the agency's crew or team
    resolution: Mapped[str | None] = mapped_column(String(32))  # cases.enums.Resolution
    # referred: {"to", "phone"}; unable_to_act: {"reason"} (public, shown with the outcome)
    resolution_detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    closed_datetime: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # the reporter asked for texts about it (SMS reporters; callers who accepted the text)
    updates_wanted: Mapped[bool] = mapped_column(default=True, server_default=true())
    # the unguessable end of the public case page's address: /c/311-000123-<token>
    public_token: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_cases_duplicate_of", "duplicate_of"),
        Index("ix_cases_due_datetime", "due_datetime"),
        # the duplicate check on every filing (cases.service.find_duplicate)
        Index("ix_cases_duplicate_lookup", "service_code", func.lower(text("address"))),
    )


class CaseFollower(Base):
    """A phone number that asked for a case's updates ("follow") besides its reporter."""

    __tablename__ = "case_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    phone: Mapped[str] = mapped_column(String(64))  # personal data: never published
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("uq_case_followers_case_phone", "case_id", "phone", unique=True),)


class FixCheck(Base):
    """Was it fixed? One question to one reporter's number after a closing as fixed.

    One row per number per closing: `closing_event_id` is the staff's closing, shared by the
    linked reports closed with it, so no number is asked twice for one closing.
    """

    __tablename__ = "fix_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)  # the one reported
    closing_event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    phone: Mapped[str] = mapped_column(String(64))  # personal data: never published
    language: Mapped[str] = mapped_column(String(8), default="en")
    outbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ask_at: Mapped[datetime]  # the question's send time: local daytime, after the delay
    # asked (waiting for the answer) | rating (said yes, asked for a rating) | done |
    # expired (not answered in time, or never sent) | cancelled (reopened before it was sent)
    status: Mapped[str] = mapped_column(String(16), default="asked")
    answer: Mapped[str | None] = mapped_column(String(8))  # yes | no | partly
    answered_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5
    rated_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_fix_checks_closing_phone", "closing_event_id", "phone", unique=True),
        Index("ix_fix_checks_phone_status", "phone", "status"),
    )


class Turn(Base):
    """One inbound message and the bot's reply, as supervisors review them."""

    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")  # redacted before storage
    asr_confidence: Mapped[float | None] = mapped_column(Float)
    intent: Mapped[str | None] = mapped_column(String(64), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[list[Any]] = mapped_column(default=list)
    # The NLU's top three intents before the fallback: [{"name", "confidence"}, ...]
    ranking: Mapped[list[Any]] = mapped_column(default=list)
    danger: Mapped[str | None] = mapped_column(String(32))  # why a danger was seen, if one was
    nlu_error: Mapped[str | None] = mapped_column(String(256))
    reply: Mapped[str] = mapped_column(Text, default="")
    reply_kind: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    replied_at: Mapped[datetime] = mapped_column(default=utcnow)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    conversation: Mapped[Conversation] = relationship(back_populates="turns")
    case: Mapped[Case | None] = relationship()


class DeferredMessage(Base):
    """An inbound message the bot could not answer then (NLU down, a crash): answered later."""

    __tablename__ = "deferred_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    text: Mapped[str] = mapped_column(Text, default="")  # redacted
    reason: Mapped[str] = mapped_column(String(16))  # nlu_down | error
    # pending | processing | done | superseded | kept (a call: nobody to answer later)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(256))  # no resident text

    __table_args__ = (Index("ix_deferred_due", "status", "next_attempt_at"),)


class OptOut(Base):
    """A phone number that texted STOP (or another opt-out keyword) and has not opted back in."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)
    keyword: Mapped[str] = mapped_column(String(16))


class ResidentLanguage(Base):
    """The language a phone number last spoke, for its next conversation (chosen: asked for)."""

    __tablename__ = "resident_languages"

    phone: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    chosen: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundMessage(Base):
    """A text message to send (transactional outbox): written with the change it reports."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|sending|sent|failed|dry_run
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32), default="")
    # its last attempt's outcome is unknown (the worker stopped while sending)
    in_doubt: Mapped[bool] = mapped_column(default=False, server_default=false())
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    redacted_at: Mapped[datetime | None]  # number and body blanked by the retention job
    # random per claim: only the worker holding the current lease may record an outcome
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # attempts answered with a 4xx Twilio code we do not know (retried only a few times)
    client_errors: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # retries stop here (a day after queueing, or after an operator's requeue)
    give_up_at: Mapped[datetime | None]
    # the web request that queued it (X-Request-ID), so its send can be found from the request
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_outbound_due", "status", "next_attempt_at"),
        Index("ix_outbound_messages_unredacted", "redacted_at", "created_at"),
    )


class CaseEvent(Base):
    """A case's history: filed, status changed, note added, resident notified."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)  # internal: staff only
    public_note: Mapped[str | None] = mapped_column(Text)  # texted to the reporter, published
    resolution: Mapped[str | None] = mapped_column(String(32))  # set when it closed the case
    assigned_to: Mapped[str | None] = mapped_column(String(128))  # set when it assigned the case


class CaseView(Base):
    """A signed-in member of staff opened a case in the console ("who looked at my data").

    The public case page tells the resident how many staff looked and when, never who. One row
    per member of staff per case per hour (cases.case_page.record_staff_view).
    """

    __tablename__ = "case_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    # a case's views (count, latest) and one member of staff's latest view of it
    __table_args__ = (Index("ix_case_views_case_user_at", "case_id", "user_id", "at"),)


# Every table's model joins this metadata (Alembic, create_all and the ORM's registry see them all).
from cases import (  # noqa: E402, F401
    admin_models,
    fleet_models,
    job_models,
    media_models,
    nlu_models,
    notice_models,
)
