"""Open data: every case as one row of NYC-Open-Data-style 311 columns, streamed (no Flask here).

The rows come from cases/public.py's `open_data_record` (the one public view), block level for
every service. A query is read in `yield_per` batches over a server-side cursor, so an export
of a million cases holds one batch in memory, never the whole set. docs/open-data.md describes
each column.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.catalog import Catalog
from cases.enums import STATUSES, open311_status
from cases.models import Case
from cases.public import open_data_record

BATCH = 1000  # rows per fetch from the database (and per chunk of the response)
# (CSV header, JSON field): NYC Open Data's "311 Service Requests" names where they apply
COLUMNS = (
    ("Unique Key", "unique_key"),
    ("Created Date", "created_date"),
    ("Closed Date", "closed_date"),
    ("Due Date", "due_date"),
    ("Agency", "agency"),
    ("Agency Name", "agency_name"),
    ("Complaint Type", "complaint_type"),
    ("Descriptor", "descriptor"),
    ("Location Type", "location_type"),
    ("Incident Zip", "incident_zip"),
    ("Incident Address", "incident_address"),
    ("Street Name", "street_name"),
    ("Cross Street 1", "cross_street_1"),
    ("Cross Street 2", "cross_street_2"),
    ("Address Type", "address_type"),
    ("City", "city"),
    ("Status", "status"),
    ("Resolution Description", "resolution_description"),
    ("Resolution Action Updated Date", "resolution_action_updated_date"),
    ("Open Data Channel Type", "open_data_channel_type"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
)
HEADER = [header for header, _ in COLUMNS]
FIELDS = [name for _, name in COLUMNS]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run it as a formula


class OpenDataError(ValueError):
    """Bad filter input: a 400 with this message."""


@dataclass(frozen=True)
class Filters:
    """?since= (filed at or after), ?updated_after= (changed after), ?status= (open, closed or
    one of CivicLine's statuses, comma-separated)."""

    since: datetime | None = None
    updated_after: datetime | None = None
    statuses: tuple[str, ...] = ()


def _when(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        example = "2026-12-01T00:00:00Z"
        raise OpenDataError(f"{name} must be an ISO 8601 date-time, e.g. {example}") from None
    if parsed.tzinfo is None:
        raise OpenDataError(f"{name} must include a time zone (e.g. Z or +00:00)")
    return parsed


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters of a request's query string, or an OpenDataError saying what is wrong."""
    unknown = sorted(set(args) - {"since", "updated_after", "status"})
    if unknown:
        raise OpenDataError(
            f"unknown parameter {unknown[0][:40]!r}; use since, updated_after, status"
        )
    statuses: list[str] = []
    for word in filter(None, (w.strip().lower() for w in args.get("status", "").split(","))):
        if word in ("open", "closed"):
            statuses += [s for s in STATUSES if open311_status(s) == word]
        elif word in STATUSES:
            statuses.append(word)
        else:
            allowed = ", ".join(("open", "closed", *STATUSES))
            raise OpenDataError(f"status must be one of: {allowed}")
    return Filters(
        since=_when(args["since"], "since") if args.get("since") else None,
        updated_after=_when(args["updated_after"], "updated_after")
        if args.get("updated_after")
        else None,
        statuses=tuple(dict.fromkeys(statuses)),
    )


def query(filters: Filters) -> Select[tuple[Case]]:
    """The published cases matching the filters, in case order."""
    found = select(Case).where(Case.service_request_id.is_not(None))
    if filters.since is not None:
        found = found.where(Case.requested_datetime >= filters.since)
    if filters.updated_after is not None:
        found = found.where(Case.updated_datetime > filters.updated_after)
    if filters.statuses:
        found = found.where(Case.status.in_(filters.statuses))
    return found.order_by(Case.id)


def batches(
    *, db_session: Session, catalog: Catalog, city: str, filters: Filters, batch: int = BATCH
) -> Iterator[list[dict[str, Any]]]:
    """The records, one batch at a time: one query, read `batch` rows per fetch (yield_per).

    Each batch's cases are dropped from the session before the next is read, so memory holds
    one batch whatever the table's size.
    """
    result = db_session.scalars(query(filters).execution_options(yield_per=batch))
    for cases in result.partitions():
        records = [open_data_record(c, catalog.policy(c.service_code), city) for c in cases]
        for case in cases:
            db_session.expunge(case)
        yield records


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # never a formula in a spreadsheet (CSV injection)
    return "" if value is None else value


def csv_chunks(records: Iterator[list[dict[str, Any]]]) -> Iterator[str]:
    """The CSV text: the header, then one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield buffer.getvalue()
    for batch in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(r[f]) for f in FIELDS] for r in batch)
        yield buffer.getvalue()


def json_chunks(records: Iterator[list[dict[str, Any]]]) -> Iterator[str]:
    """A JSON array of objects keyed by the JSON field names, one chunk per batch."""
    yield "["
    first = True
    for batch in records:
        if not batch:
            continue
        text = ",\n".join(json.dumps(r, ensure_ascii=False) for r in batch)
        yield ("\n" if first else ",\n") + text
        first = False
    yield "\n]\n"


def export(
    *,
    db_session: Session,
    catalog: Catalog,
    city: str,
    path: Path,
    filters: Filters | None = None,
    batch: int = BATCH,
) -> int:
    """Write the whole data set to `path` atomically (a temporary file renamed over it).

    The format follows the suffix (.json, else CSV). Readers of `path` see the old file or the
    new one, never half of one. Returns the number of rows.
    """
    path = Path(path)
    rows = 0

    def counted() -> Iterator[list[dict[str, Any]]]:
        nonlocal rows
        for records in batches(
            db_session=db_session,
            catalog=catalog,
            city=city,
            filters=filters or Filters(),
            batch=batch,
        ):
            rows += len(records)
            yield records

    chunks = json_chunks if path.suffix == ".json" else csv_chunks
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            for chunk in chunks(counted()):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return rows
