"""`flask --app app retention run [--dry-run]`: apply the retention policy now, from the shell."""

from __future__ import annotations

import socket

import click
from flask import current_app
from flask.cli import with_appcontext

from cases import retention
from cases.models import utcnow
from cases.retention_worker import PAUSE, policy_of


@click.group("retention")
def retention_cli() -> None:
    """Apply the retention policy (docs/retention.md)."""


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
@with_appcontext
def run(dry_run: bool) -> None:
    """Redact, blank and delete what the policy says is due, and print the counts."""
    rt = current_app.extensions["civicline"]
    policy = policy_of(rt.settings)
    with rt.Session() as db_session:
        if dry_run:
            counts = retention.preview(db_session=db_session, now=utcnow(), policy=policy)
        else:
            try:
                counts = retention.run(
                    db_session=db_session,
                    now=utcnow(),
                    policy=policy,
                    model_dir=rt.settings.model_dir,
                    owner=f"cli@{socket.gethostname()}",
                    pause=PAUSE,
                )
            except retention.RetentionBusy as exc:
                raise click.ClickException(f"nothing done: {exc}") from exc
    click.echo("dry run: nothing changed; a run now would do this" if dry_run else "done")
    for kind, count in counts.items():
        click.echo(f"{kind}: {count}")
