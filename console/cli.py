"""`flask --app app console ...`: staff accounts and the cookie key from the shell (audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from cases.app_secrets import COOKIE_KEY, rotate_secret
from cases.audit import record
from cases.staff_sessions import end_all_sessions
from cases.users import (
    ROLES,
    UserError,
    create_user,
    reset_password,
    set_disabled,
    set_role,
)


@click.group("console")
def console_cli() -> None:
    """Manage console staff accounts."""


def _change(action: str, change: Callable[[Session], Any], **detail: str) -> Any:
    """Run one account change and its audit entry in one transaction; errors as clean messages."""
    sessions = current_app.extensions["civicline"].Session
    with sessions() as db_session, db_session.begin():
        try:
            user = change(db_session)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        record(
            db_session=db_session,
            actor=None,
            action=action,
            target_type="user",
            target_id=user.username,
            detail={**detail, "via": "cli"},
        )
    return user


@console_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="supervisor", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown in the console.")
@click.password_option(help="At least 10 characters (asked for when not given).")
@with_appcontext
def create(username: str, role: str, display_name: str, password: str) -> None:
    """Create a staff account."""
    user = _change(
        "user.create",
        lambda s: create_user(
            db_session=s, username=username, password=password, role=role, display_name=display_name
        ),
        role=role,
    )
    click.echo(f"created {user.username} ({role})")


@console_cli.command("disable-user")
@click.argument("username")
@with_appcontext
def disable(username: str) -> None:
    """Disable an account: sign-ins are refused and its sessions end now."""
    user = _change(
        "user.disable", lambda s: set_disabled(db_session=s, username=username, disabled=True)
    )
    click.echo(f"disabled {user.username}; signed out everywhere")


@console_cli.command("enable-user")
@click.argument("username")
@with_appcontext
def enable(username: str) -> None:
    """Enable a disabled account."""
    user = _change(
        "user.enable", lambda s: set_disabled(db_session=s, username=username, disabled=False)
    )
    click.echo(f"enabled {user.username}")


@console_cli.command("set-password")
@click.argument("username")
@click.password_option(help="At least 10 characters (asked for when not given).")
@with_appcontext
def set_password(username: str, password: str) -> None:
    """Reset a user's password (e.g. the admin's own, when no admin can sign in)."""
    user = _change(
        "user.password_reset",
        lambda s: reset_password(db_session=s, username=username, password=password),
    )
    click.echo(f"password of {user.username} reset; signed out everywhere")


@console_cli.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@with_appcontext
def change_role(username: str, role: str) -> None:
    """Change a user's role; their sessions end so no page keeps the old permissions."""
    user = _change(
        "user.role", lambda s: set_role(db_session=s, username=username, role=role), role=role
    )
    click.echo(f"{user.username} is now {user.role}; signed out everywhere")


@console_cli.command("rotate-secret-key")
@with_appcontext
def rotate_secret_key() -> None:
    """Replace the cookie key kept in the database and sign everyone out."""
    runtime = current_app.extensions["civicline"]
    with runtime.Session() as db_session, db_session.begin():
        rotate_secret(db_session=db_session, name=COOKIE_KEY)
        ended = end_all_sessions(db_session=db_session, reason="key_rotated")
        record(
            db_session=db_session,
            actor=None,
            action="secret.rotate",
            target_type="secret",
            target_id=COOKIE_KEY,
            detail={"via": "cli", "sessions_ended": ended},
        )
    click.echo("rotated the stored cookie key and signed everyone out; restart every app process")
    if runtime.settings.secret_key:
        click.echo("note: CIVICLINE_SECRET_KEY is set, so the app signs with that one; change it")
