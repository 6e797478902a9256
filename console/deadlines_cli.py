"""`flask --app app cases overdue [--send]`: the overdue digest per agency, printed or e-mailed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cases.deadlines import default_calendar
from cases.models import utcnow
from outbound.digest import digests, send_digests


@click.group("cases")
def cases_cli() -> None:
    """Cases from the shell: deadlines."""


@cases_cli.command("overdue")
@click.option("--send", is_flag=True, help="E-mail each agency's digest (CIVICLINE_SMTP_URL).")
@with_appcontext
def overdue(send: bool) -> None:
    """Print the open cases past their due date, per agency (or e-mail them with --send)."""
    rt = current_app.extensions["civicline"]
    calendar = rt.catalog.calendar or default_calendar()
    now = utcnow()
    with rt.Session() as db_session:
        if send:
            try:
                sent = send_digests(
                    settings=rt.settings, db_session=db_session, calendar=calendar, now=now
                )
            except (ValueError, OSError) as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(f"sent {sent} digest e-mail(s)")
            return
        texts = digests(
            db_session=db_session, calendar=calendar, now=now, city=rt.settings.city_name
        )
    if not texts:
        click.echo("no overdue cases")
    for body in texts.values():
        click.echo(body)
