"""Residents' photos and the artifact store's bytes (photos, trained models) by key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, utcnow


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
