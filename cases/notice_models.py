"""Service notices the bot tells residents about, and residents' subscriptions to alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, utcnow


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
