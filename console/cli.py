"""`flask --app app console create-user NAME --role admin`: staff accounts from the shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cases.audit import record
from cases.users import ROLES, UserError, create_user


@click.group("console")
def console_cli() -> None:
    """Manage console staff accounts."""


@console_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="supervisor", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown in the console.")
@click.password_option(help="At least 10 characters (asked for when not given).")
@with_appcontext
def create(username: str, role: str, display_name: str, password: str) -> None:
    """Create a staff account."""
    sessions = current_app.extensions["civicline"].Session
    with sessions() as db_session, db_session.begin():
        try:
            user = create_user(
                db_session=db_session,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
            )
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        record(
            db_session=db_session,
            actor=None,
            action="user.create",
            target_type="user",
            target_id=user.username,
            detail={"role": role, "via": "cli"},
        )
    click.echo(f"created {user.username} ({role})")
