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
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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


class ApiKey(Base):
    """An Open311 API key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class User(Base):
    """A member of staff who signs in to the console (role: supervisor or admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))  # Argon2id
    role: Mapped[str] = mapped_column(String(16))  # supervisor | admin
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the store its SHA-256.

    Kept server-side so signing out, a password change or disabling an account ends a session
    even where its cookie was copied, and so a database reader cannot mint a session.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # logout | password_change | password_reset | disabled | role_change
    end_reason: Mapped[str | None] = mapped_column(String(32))


class AppSecret(Base):
    """A secret generated once and shared by every worker and machine (e.g. the cookie key)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    """One sign-in attempt, kept for rate limiting (shared by every worker)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool]

    # the limiter counts one user's (or one address's) failures since a time
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )


class AuditEntry(Base):
    """Who changed what, and when: every state-changing action in the console or CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


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


class TrainingCandidate(Base):
    """A turn proposed as a training example: flagged as misclassified, or low confidence."""

    __tablename__ = "training_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)  # redacted, as stored in the turn
    predicted_intent: Mapped[str | None] = mapped_column(String(64))
    suggested_intent: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # flagged | low_confidence
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    flagged_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class ModelVersion(Base):
    """A trained NLU model: its data fingerprint, who trained it, its evaluation, if active."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    # queued | training | trained | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent of epochs
    epochs: Mapped[int | None]
    model_path: Mapped[str | None] = mapped_column(String(1024))  # an artifact key, not a path
    log_path: Mapped[str | None] = mapped_column(String(1024))
    train_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    macro_f1: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per-intent P/R/F1, predictions
    evaluated_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    files_deleted_at: Mapped[datetime | None]  # model folder removed by the retention job
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    __table_args__ = (Index("ix_model_versions_status", "status"),)


class CatalogChangeset(Base):
    """When each version of the service catalogue was first served: Open311 discovery's changeset.

    Keyed by a hash of the catalogue files' content, so every machine serving the same catalogue
    answers the same changeset (the first machine to see a version records its time).
    """

    __tablename__ = "catalog_changesets"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """A background job's lock and last run: one row per job, claimed by a conditional UPDATE."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None]  # a lease: a holder that died frees it by then
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(Base):
    """Slow or risky admin work run outside web requests (activate, train, evaluate), as recorded.

    `lease` is a fencing token: it goes up whenever a process starts or takes over the job, and
    every write by the runner is conditional on it, so a runner that was presumed dead and then
    wakes up cannot overwrite what its successor did.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # activate | train | evaluate
    target_id: Mapped[int | None]  # the model version it works on
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    lock_name: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    lease: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # intent, recorded up front
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. state per replica
    result: Mapped[str | None] = mapped_column(Text)  # what happened, in words
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_jobs_kind_status", "kind", "status"),)


class JobLock(Base):
    """A named lock in the store, held by one job, claimed by a conditional UPDATE (any machine)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    claimed_at: Mapped[datetime | None]


class Photo(Base):
    """A photo of a report: texted by a resident (MMS) or uploaded by staff.

    Its bytes live in the artifact store under keys (cases/artifacts.py), never at a path. A
    texted photo is fetched from Twilio by a background job (`work`, claimed like an outbox
    message: a lease in `next_attempt_at` and a `claim_token` every outcome is conditional on),
    cleaned (EXIF dropped), thumbnailed and stored; then Twilio's copy is deleted and its URL
    blanked. Photos start unpublished (`review` pending) and are public only once approved.
    """

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the unguessable public name
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    # a texted photo: Twilio's MessageSid and the media's index in it (a retry stores nothing)
    message_sid: Mapped[str | None] = mapped_column(String(128))
    media_index: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(16))  # mms | staff
    kind: Mapped[str] = mapped_column(String(16), default="before")  # before | after
    # queued (bytes still to fetch or process) | ready | refused | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    refusal: Mapped[str | None] = mapped_column(String(32))  # type|too_big|not_image|limit|...
    review: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|hidden
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    # Twilio's copy: fetched with the account's credentials, deleted and blanked when stored
    twilio_url: Mapped[str | None] = mapped_column(String(1024))
    content_type: Mapped[str] = mapped_column(String(64), default="")  # as declared
    upload_key: Mapped[str | None] = mapped_column(String(128))  # a staff upload, unprocessed
    image_key: Mapped[str | None] = mapped_column(String(128))  # cleaned, full size
    thumb_key: Mapped[str | None] = mapped_column(String(128))
    # what the public gets when regions are blurred (else image_key and thumb_key)
    public_key: Mapped[str | None] = mapped_column(String(128))
    public_thumb_key: Mapped[str | None] = mapped_column(String(128))
    image_type: Mapped[str | None] = mapped_column(String(32))  # image/jpeg | image/png
    width: Mapped[int | None]
    height: Mapped[int | None]
    size_bytes: Mapped[int | None]
    blurs: Mapped[list[Any]] = mapped_column(default=list)  # [{"x","y","w","h"} in percent]
    work: Mapped[str | None] = mapped_column(String(16))  # download | process | delete | None
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)  # also the claim's lease
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)  # never a media URL
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    uploaded_by: Mapped[str | None] = mapped_column(String(64))  # staff uploads

    __table_args__ = (
        UniqueConstraint("message_sid", "media_index", name="uq_photos_message_sid_media_index"),
        Index("ix_photos_due", "work", "next_attempt_at"),
    )


class Artifact(Base):
    """Bytes of the artifact store (cases/artifacts.py) by key: photos, trained models."""

    __tablename__ = "artifacts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))  # lets a machine trust its cached copy
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """A city notice (holiday pickup delay, water main break): shown to residents while active.

    `texts` holds the words per language ({"en": ..., "es": ...}); `streets` empty means
    citywide. A report of one of its services on one of its streets is linked to its parent
    case instead of filing another (bot/reports.py).
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    streets: Mapped[list[Any]] = mapped_column(default=list)  # canonical names; empty: citywide
    service_codes: Mapped[list[Any]] = mapped_column(default=list)
    kb_intents: Mapped[list[Any]] = mapped_column(default=list)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]  # ended early by staff
    broadcast_queued: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    broadcast_skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class AlertSubscription(Base):
    """A number that asked by text for city alerts ("ALERTS TRASH 120 Elm St"), with consent."""

    __tablename__ = "alert_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(64), index=True)  # personal data
    service_codes: Mapped[list[Any]] = mapped_column(default=list)  # empty: every service
    street: Mapped[str | None] = mapped_column(String(128))  # canonical name; None: citywide
    language: Mapped[str] = mapped_column(String(8), default="en")
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_text: Mapped[str] = mapped_column(String(320), default="")  # the consenting message
    ended_at: Mapped[datetime | None] = mapped_column(index=True)


class TrainingExample(Base):
    """One NLU training example (Rasa entity markup kept), shared by every app machine.

    `normalized` is the text without markup, lower-cased, spaces collapsed: unique per language,
    so the same example can never sit under two intents, even when two machines add it at once.
    """

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(600))
    position: Mapped[int] = mapped_column(Integer)  # order within the intent
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("language", "normalized", name="uq_training_examples_language_normalized"),
        Index("ix_training_examples_language_intent", "language", "intent", "position"),
    )


class TrainingDataSeed(Base):
    """A language's training data was seeded from its YAML file (the row is the seeding claim).

    `intents` keeps the file's intent order; `extra_yaml` its non-intent blocks (regexes,
    lookups, synonyms) verbatim, so the YAML rendered from the database is complete.
    """

    __tablename__ = "training_data_seeds"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    intents: Mapped[list[Any]] = mapped_column(default=list)
    extra_yaml: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    seeded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingSnapshot(Base):
    """The exact Rasa NLU YAML a model version was trained on, taken when its training started."""

    __tablename__ = "training_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    yaml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    examples: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


from cases import fleet_models  # noqa: E402, F401  (its tables join this metadata)
