"""`flask --app app outbox list|retry`: see failed texts and send one again, via the look-up."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from cases.audit import record
from cases.models import OutboundMessage, utcnow
from cases.outbox import requeue
from outbound.sender import mask_number


@click.group("outbox")
def outbox_cli() -> None:
    """Inspect and retry outbound texts."""


@outbox_cli.command("list")
@click.option("--status", default="failed", show_default=True, help="pending, sending, sent…")
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_messages(status: str, limit: int) -> None:
    """Texts in one state, newest first (numbers masked, no message text)."""
    sessions = current_app.extensions["civicline"].Session
    with sessions() as db_session:
        rows = db_session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.status == status)
            .order_by(OutboundMessage.id.desc())
            .limit(limit)
        )
        for m in rows:
            doubt = " in-doubt" if m.in_doubt else ""
            click.echo(
                f"{m.id}\t{m.created_at:%Y-%m-%d %H:%M}\t{mask_number(m.to)}\t{m.reason}\t"
                f"{m.attempts} attempt(s){doubt}\t{m.last_error or ''}"
            )


@outbox_cli.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
def retry(message_id: int) -> None:
    """Queue a failed text again; one that may have reached Twilio is looked up there first."""
    sessions = current_app.extensions["civicline"].Session
    with sessions() as db_session, db_session.begin():
        try:
            message = requeue(db_session=db_session, message_id=message_id, now=utcnow())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        record(
            db_session=db_session,
            actor=None,
            action="outbox.retry",
            target_type="outbound_message",
            target_id=str(message_id),
            detail={"in_doubt": message.in_doubt, "via": "cli"},
        )
    note = " (it may have reached Twilio: looked up there before any resend)"
    click.echo(f"queued outbox message {message_id} again" + (note if message.in_doubt else ""))
