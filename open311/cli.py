"""`flask --app app open311 create-key|revoke-key|list-keys`: API keys for city systems."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cases.api_keys import ApiKeyError, create_api_key, list_api_keys, revoke_api_key


@click.group("open311")
def open311_cli() -> None:
    """Manage Open311 API keys."""


def _sessions():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"].Session


@open311_cli.command("create-key")
@click.argument("name")
@with_appcontext
def create_key(name: str) -> None:
    """Create a key called NAME and print it (shown only once)."""
    with _sessions()() as db_session, db_session.begin():
        try:
            key = create_api_key(db_session=db_session, name=name)
        except ApiKeyError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(key)


@open311_cli.command("revoke-key")
@click.argument("name")
@with_appcontext
def revoke_key(name: str) -> None:
    """Revoke the key called NAME."""
    with _sessions()() as db_session, db_session.begin():
        try:
            revoke_api_key(db_session=db_session, name=name)
        except ApiKeyError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {name}")


@open311_cli.command("list-keys")
@with_appcontext
def list_keys() -> None:
    """List keys (names, prefixes, state), never the keys themselves."""
    with _sessions()() as db_session:
        for key in list_api_keys(db_session=db_session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(f"{key.name}\t{key.prefix}…\t{key.created_at:%Y-%m-%d}\t{state}")
