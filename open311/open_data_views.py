"""/open-data/service_requests.{csv,json}: the open data set, streamed, public, no key.

Web pool only (app.py), rate-limited per address like Open311 (ops/limits.py). The response is
a stream: rows are read in batches while it is sent, within one read transaction.
`flask --app app open-data export PATH` writes the same file atomically (open311/open_data.py);
`python -m open311.open_data_worker` does it nightly on one machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Blueprint, Response, current_app, request, stream_with_context
from flask.cli import with_appcontext

from open311 import open_data

bp = Blueprint("open_data", __name__, url_prefix="/open-data")
TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


@bp.get("/service_requests.<fmt>")
def service_requests(fmt: str) -> Response:
    """Every published case as CSV or JSON; ?since=, ?updated_after=, ?status= narrow it."""
    if fmt not in TYPES:
        return _bad(404, f"format {fmt[:16]!r} is not supported; use .csv or .json", "json")
    try:
        filters = open_data.parse_filters(request.args)
    except open_data.OpenDataError as exc:
        return _bad(400, str(exc), fmt)
    runtime = current_app.extensions["civicline"]
    batch = current_app.config.get("OPEN_DATA_BATCH", open_data.BATCH)

    def rows() -> Iterator[list[dict[str, object]]]:
        with runtime.Session() as db_session:
            yield from open_data.batches(
                db_session=db_session,
                catalog=runtime.catalog,
                city=runtime.settings.city_name,
                filters=filters,
                batch=batch,
            )

    chunks = open_data.csv_chunks if fmt == "csv" else open_data.json_chunks
    response = Response(stream_with_context(chunks(rows())), content_type=TYPES[fmt])
    response.headers["Content-Disposition"] = f'inline; filename="service_requests.{fmt}"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _bad(status: int, message: str, fmt: str) -> Response:
    if fmt == "csv":
        return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    body = json.dumps({"error": message})
    return Response(body, status=status, content_type=TYPES["json"])


@click.group("open-data")
def open_data_cli() -> None:
    """The open data set of service requests (docs/open-data.md)."""


@open_data_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(path: Path) -> None:
    """Write every published case to PATH (.csv or .json), atomically."""
    runtime = current_app.extensions["civicline"]
    with runtime.Session() as db_session:
        rows = open_data.export(
            db_session=db_session,
            catalog=runtime.catalog,
            city=runtime.settings.city_name,
            path=path,
        )
    click.echo(f"{rows} rows written to {path}")
