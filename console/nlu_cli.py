"""`flask --app app nlu train|evaluate|activate|rollback|list|export`: admin actions, scripted."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from cases.job_models import Job
from cases.nlu_models import ModelVersion
from nlu import activation, reconcile, training_store, versions
from nlu.languages import DEFAULT, LANGUAGES


@click.group("nlu")
def nlu_cli() -> None:
    """Train, evaluate, activate and roll back NLU model versions."""


def _rt():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"]


@nlu_cli.command("train")
@click.option("--epochs", type=int, default=None, help="Override DIET's epochs (tests, trials).")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default=DEFAULT,
    show_default=True,
    help="Whose data, config and held-out file.",
)
@with_appcontext
def train(epochs: int | None, language: str) -> None:
    """Train and evaluate a new version from one language's training data (in the foreground)."""
    rt = _rt()
    try:
        with rt.Session() as db_session, db_session.begin():
            version_id = versions.start_training(
                db_session=db_session,
                user=None,
                epochs=epochs or rt.settings.train_epochs,
                language=language,
            ).id
    except versions.VersionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"training version {version_id} (log: {rt.settings.model_dir}/v{version_id}/train.log)"
    )
    try:
        versions.run_training(
            sessions=rt.Session,
            version_id=version_id,
            data_dir=rt.settings.data_dir,
            model_dir=rt.settings.model_dir,
        )
    except Exception as exc:
        raise click.ClickException(f"training failed: {exc}") from exc
    with rt.Session() as db_session:
        v = db_session.get(ModelVersion, version_id)
        click.echo(f"v{v.id}: trained in {v.train_seconds} s, held-out macro-F1 {v.macro_f1:.4f}")


@nlu_cli.command("evaluate")
@click.argument("version_id", type=int)
@with_appcontext
def evaluate(version_id: int) -> None:
    """Score a version on the held-out file again."""
    rt = _rt()
    try:
        f1 = versions.run_evaluation(
            sessions=rt.Session,
            version_id=version_id,
            out=rt.settings.model_dir / f"eval-v{version_id}",
        )
    except versions.VersionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"v{version_id}: held-out macro-F1 {f1:.4f}")


def _activate(version_id: int, reason: str, rollback: bool, wait: float) -> None:
    """Record the wanted version like the console, then follow the rollout until it ends."""
    rt = _rt()
    try:
        with rt.Session() as db_session, db_session.begin():
            job = activation.enqueue(
                db_session=db_session,
                version_id=version_id,
                user=None,
                reason=reason,
                rollback=rollback,
                gone_after=timedelta(seconds=rt.settings.replica_gone_seconds),
            )
            job_id, intent = job.id, job.detail["intent"]
    except versions.VersionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"job {job_id}: {intent}")
    deadline, shown = time.monotonic() + wait, {}
    while True:
        with rt.Session() as db_session:
            job = db_session.get(Job, job_id)
            assert job is not None
            for name, state in job.progress.items():
                if shown.get(name) != state:
                    click.echo(f"  {name}: {state}")
            shown = dict(job.progress)
            if job.status not in ("queued", "running"):
                break
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"job {job_id} is still rolling out after {wait:.0f} s; the reconcilers go on "
                "(see Admin > Models)"
            )
        time.sleep(0.5)
    if job.status != "done":
        raise click.ClickException(f"activation failed: {job.error}; {job.result}")
    click.echo(f"v{version_id} is active: {job.result}")


WAIT = click.option(
    "--wait", type=float, default=300.0, show_default=True, help="Seconds to follow the rollout."
)


@nlu_cli.command("activate")
@click.argument("version_id", type=int)
@click.option("--reason", default="", help="Needed when the version scores below the active one.")
@WAIT
@with_appcontext
def activate(version_id: int, reason: str, wait: float) -> None:
    """Make a version the wanted one; every machine's reconciler loads it into its replicas."""
    _activate(version_id, reason, rollback=False, wait=wait)


@nlu_cli.command("rollback")
@click.argument("version_id", type=int)
@WAIT
@with_appcontext
def rollback(version_id: int, wait: float) -> None:
    """Go back to an earlier version."""
    _activate(version_id, "", rollback=True, wait=wait)


@nlu_cli.command("serve-reconcile")
@with_appcontext
def serve_reconcile() -> None:
    """Run this machine's reconciler in the foreground (make run starts one itself)."""
    raise SystemExit(reconcile.serve(_rt().settings))


@nlu_cli.command("list")
@with_appcontext
def list_versions() -> None:
    """Every version with its score and language."""
    with _rt().Session() as db_session:
        for v in db_session.scalars(select(ModelVersion).order_by(ModelVersion.id)):
            f1 = f"{v.macro_f1:.4f}" if v.macro_f1 is not None else "-"
            state = "active" if v.active else ""
            click.echo(f"v{v.id}\t{v.status}\t{f1}\t{state}\t{v.created_by}\t{v.language}")


@nlu_cli.command("export")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default=DEFAULT,
    show_default=True,
    help="Whose training data.",
)
@click.option("--version", "version_id", type=int, default=None, help="That version's snapshot.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def export(language: str, version_id: int | None, out: Path | None) -> None:
    """Write the training data in the store (or a version's snapshot) as Rasa NLU YAML."""
    rt = _rt()
    with rt.Session() as db_session, db_session.begin():  # the first read may seed
        if version_id is None:
            text = training_store.to_yaml(
                db_session=db_session, language=language, data_dir=rt.settings.data_dir
            )
        else:
            snap = training_store.stored_snapshot(db_session=db_session, version_id=version_id)
            if snap is None:
                raise click.ClickException(f"version {version_id} has no stored training data")
            text = snap.yaml
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
