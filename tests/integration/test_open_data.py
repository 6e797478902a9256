"""The open data set: /open-data/service_requests.{csv,json}, the export command, streaming."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import event, insert

from app import create_app
from cases.models import Case
from open311 import open_data
from settings import ROOT
from tests.conftest import AUTH_TOKEN
from tests.fakes import FakeNLU
from tests.integration.conftest import gunicorn
from tests.rasa_standin import RasaStandIn

URL = "/open-data/service_requests"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HEADER = (
    "Unique Key,Created Date,Closed Date,Due Date,Agency,Agency Name,Complaint Type,Descriptor,"
    "Location Type,Incident Zip,Incident Address,Street Name,Cross Street 1,Cross Street 2,"
    "Address Type,City,Status,Resolution Description,Resolution Action Updated Date,"
    "Open Data Channel Type,Latitude,Longitude"
)
# planted personal data, as a privacy scan would (tests/security/test_privacy.py)
NAME, PHONE, EMAIL = "Ana Ruiz", "555-867-5309", "ana.ruiz@example.com"
WORDS = "purple giraffe ladder"  # a resident's own words
HOUSE = "1234 Linden Street"


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    yield app
    app.extensions["civicline"].db.dispose()


def case_row(i: int, **fields) -> dict:
    return {
        "service_request_id": f"311-{i:06d}",
        "service_code": "PW-POTHOLE",
        "service_name": "Pothole",
        "agency_responsible": "Department of Public Works",
        "source": "sms",
        "description": f"{NAME} here, call {PHONE} or {EMAIL}, {WORDS}",
        "contact_name": NAME,
        "contact_phone": "+15558675309",
        "contact_email": EMAIL,
        "internal_notes": f"called {NAME} back",
        "status_notes": f"spoke with {NAME}",
        "address": HOUSE,
        "lat": 42.106123,
        "long": -72.594876,
        "requested_datetime": NOW - timedelta(days=i % 50),
        "updated_datetime": NOW - timedelta(days=i % 50) + timedelta(hours=1),
        **fields,
    }


def plant(app, rows: list[dict]) -> None:
    with app.extensions["civicline"].Session() as s, s.begin():
        s.execute(insert(Case), rows)


@pytest.fixture
def planted(app):
    rows = [
        case_row(1, attributes={"size": "large"}, expected_datetime=NOW + timedelta(days=5)),
        case_row(
            2,
            service_code="PD-NOISE",
            service_name="Noise complaint",
            agency_responsible="Police Department",
            source="voice",
            attributes={"noise_type": "music_party"},
            status="closed",
            closed_datetime=NOW,
            resolution="unable_to_act",
            resolution_detail={"reason": f"{NAME} was not home"},
        ),
        case_row(
            3,
            service_code="PD-NOISE",
            service_name="Noise complaint",
            agency_responsible="Police Department",
            source="open311",
            address="Elm Street and Main Street",
            lat=None,
            long=None,
            status="closed",
            closed_datetime=NOW,
            resolution="referred",
            resolution_detail={"to": "Riverton Gas", "phone": PHONE},
        ),
        case_row(4, address='=HYPERLINK("x") Elm St', status="assigned", assigned_to=NAME),
    ]
    plant(app, rows)
    return rows


def get_csv(client, query: str = "") -> tuple[list[str], list[dict]]:
    resp = client.get(f"{URL}.csv{query}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(text))
    return text.splitlines()[0].split(","), list(reader)


def test_csv_has_the_documented_header_and_rows(app, planted):
    header, rows = get_csv(app.test_client())
    assert ",".join(header) == HEADER
    documented = (ROOT / "docs" / "open-data.md").read_text()
    assert all(f"| `{h}` |" in documented for h in header)  # column by column
    assert [r["Unique Key"] for r in rows] == [
        "311-000001",
        "311-000002",
        "311-000003",
        "311-000004",
    ]
    first, noise, referred, formula = rows
    assert first == {
        "Unique Key": "311-000001",
        "Created Date": "2026-11-30T12:00:00+00:00",
        "Closed Date": "",
        "Due Date": "2026-12-06T12:00:00+00:00",
        "Agency": "PW",
        "Agency Name": "Department of Public Works",
        "Complaint Type": "Pothole",
        "Descriptor": "Size: Bigger than a tire",
        "Location Type": "",
        "Incident Zip": "",
        "Incident Address": "1200 block of Linden Street",
        "Street Name": "Linden Street",
        "Cross Street 1": "",
        "Cross Street 2": "",
        "Address Type": "BLOCKFACE",
        "City": "Riverton",
        "Status": "Received",
        "Resolution Description": "",
        "Resolution Action Updated Date": "2026-11-30T13:00:00+00:00",
        "Open Data Channel Type": "SMS",
        "Latitude": "42.106",
        "Longitude": "-72.595",
    }
    assert noise["Descriptor"] == "Noise type: Loud music or party"
    assert noise["Open Data Channel Type"] == "PHONE" and noise["Status"] == "Closed"
    assert noise["Resolution Description"] == "The city could not act"
    assert noise["Closed Date"] == "2026-12-01T12:00:00+00:00"
    assert referred["Address Type"] == "INTERSECTION" and referred["Incident Address"] == ""
    assert (referred["Cross Street 1"], referred["Cross Street 2"]) == ("Elm Street", "Main Street")
    assert referred["Resolution Description"] == "Referred to Riverton Gas"
    assert referred["Open Data Channel Type"] == "ONLINE" and referred["Latitude"] == ""
    assert formula["Incident Address"].startswith("'=")  # never a spreadsheet formula
    assert formula["Status"] == "Assigned"


def test_no_planted_personal_data_and_only_block_level_places(app, planted):
    client = app.test_client()
    for fmt in ("csv", "json"):
        body = client.get(f"{URL}.{fmt}").get_data(as_text=True)
        for planted_item in (NAME, PHONE, EMAIL, "8675309", "purple", "giraffe", "1234", "spoke"):
            assert planted_item not in body, (fmt, planted_item)
        assert "1200 block of Linden Street" in body


def test_json_has_the_same_content(app, planted):
    client = app.test_client()
    _, rows = get_csv(client)
    resp = client.get(f"{URL}.json")
    assert resp.mimetype == "application/json"
    records = json.loads(resp.get_data(as_text=True))
    assert list(records[0]) == open_data.FIELDS
    for row, record in zip(rows, records, strict=True):
        as_csv = {h: row[h] for h, _ in open_data.COLUMNS}
        as_json = {h: str(open_data._cell(record[f])) for h, f in open_data.COLUMNS}
        assert as_json == as_csv
    assert records[0]["latitude"] == 42.106 and records[2]["latitude"] is None


def test_filters_and_clear_errors(app):
    plant(
        app,
        [
            case_row(1, requested_datetime=NOW - timedelta(days=10), updated_datetime=NOW),
            case_row(2, requested_datetime=NOW - timedelta(days=1), updated_datetime=NOW),
            case_row(
                3,
                requested_datetime=NOW - timedelta(days=1),
                updated_datetime=NOW - timedelta(days=1),
                status="closed",
            ),
        ],
    )
    client = app.test_client()

    def keys(query: str) -> list[str]:
        return [r["Unique Key"][-1] for r in get_csv(client, query)[1]]

    since = (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert keys(f"?since={since}") == ["2", "3"]
    half_day = (NOW - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert keys(f"?updated_after={half_day}") == ["1", "2"]
    assert keys("?status=closed") == ["3"] and keys("?status=open") == ["1", "2"]
    assert keys(f"?status=received&since={since}") == ["2"]
    for query, words in (
        ("?since=yesterday", "ISO 8601"),
        ("?since=2026-12-01T00:00:00", "time zone"),
        ("?status=pending", "status must be one of"),
        ("?limit=5", "unknown parameter"),
    ):
        resp = client.get(f"{URL}.csv{query}")
        assert resp.status_code == 400 and words in resp.get_data(as_text=True), query
        resp = client.get(f"{URL}.json{query}")
        assert resp.status_code == 400 and words in resp.get_json()["error"]
    assert client.get(f"{URL}.xlsx").status_code == 404


def test_the_export_streams_in_batches_with_one_query(app):
    plant(app, [case_row(i) for i in range(1, 2501)])
    runtime = app.extensions["civicline"]
    with runtime.Session() as s:
        sizes = [
            len(b)
            for b in open_data.batches(
                db_session=s,
                catalog=runtime.catalog,
                city="Riverton",
                filters=open_data.Filters(),
                batch=100,
            )
        ]
    assert sizes == [100] * 25
    selects = []
    event.listen(
        runtime.db,
        "before_cursor_execute",
        lambda conn, cursor, statement, *a: selects.append(statement),
    )
    app.config["OPEN_DATA_BATCH"] = 100
    resp = app.test_client().get(f"{URL}.csv")
    assert resp.is_streamed
    assert [s for s in selects if "FROM cases" in s] == []  # nothing read until the body is
    chunks = list(resp.response)
    resp.close()
    assert len(chunks) == 1 + 25  # the header, then one chunk per batch
    assert len([s for s in selects if "FROM cases" in s]) == 1
    assert (
        sum(c.count(b"\r\n") if isinstance(c, bytes) else c.count("\r\n") for c in chunks) == 2501
    )


def test_export_command_writes_the_file_atomically(app, planted, tmp_path):
    target = tmp_path / "out" / "service_requests.csv"
    result = app.test_cli_runner().invoke(args=["open-data", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert "4 rows" in result.output
    assert target.read_bytes() == app.test_client().get(f"{URL}.csv").get_data()
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left
    with app.extensions["civicline"].Session() as s:
        rows = open_data.export(
            db_session=s,
            catalog=app.extensions["civicline"].catalog,
            city="Riverton",
            path=tmp_path / "out" / "service_requests.json",
        )
    assert rows == 4
    assert len(json.loads((tmp_path / "out" / "service_requests.json").read_text())) == 4


def test_only_the_web_pool_serves_open_data(settings):
    app = create_app(replace(settings, role="webhooks"), nlu=FakeNLU())
    try:
        assert app.test_client().get(f"{URL}.csv").status_code == 404
    finally:
        app.extensions["civicline"].db.dispose()


def test_the_csv_through_gunicorn(database_url, settings):
    app = create_app(settings, nlu=FakeNLU())
    plant(app, [case_row(i) for i in range(1, 301)])
    app.extensions["civicline"].db.dispose()
    standin = RasaStandIn()
    try:
        with gunicorn(database_url, standin, AUTH_TOKEN) as base:
            resp = requests.get(f"{base}{URL}.csv", timeout=30)
            assert resp.status_code == 200
            assert resp.headers["Content-Type"].startswith("text/csv")
            assert resp.headers.get("Transfer-Encoding") == "chunked"  # streamed, no length
            rows = list(csv.DictReader(io.StringIO(resp.text)))
            assert len(rows) == 300 and ",".join(rows[0]) == HEADER
            assert NAME not in resp.text and "1200 block of Linden Street" in resp.text
    finally:
        standin.close()


def test_the_nightly_export_runs_once_a_day_on_one_machine(app, planted, tmp_path):
    from open311.open_data_worker import tick

    runtime = app.extensions["civicline"]
    target = tmp_path / "nightly.csv"

    def run(owner: str, now: datetime) -> int | None:
        return tick(
            sessions=runtime.Session,
            catalog=runtime.catalog,
            city="Riverton",
            path=target,
            hour=3,
            owner=owner,
            now=now,
        )

    night = datetime(2026, 12, 2, 3, 0, 30, tzinfo=UTC)
    assert run("a:1", night - timedelta(minutes=1)) == 4  # first ever: yesterday's 03:00 due
    assert target.exists() and run("b:2", night - timedelta(seconds=45)) is None
    assert run("b:2", night + timedelta(minutes=1)) == 4  # 03:00 passed: tonight's run
    assert run("a:1", night + timedelta(minutes=2)) is None  # the other machine already did
    assert run("a:1", night + timedelta(hours=20)) is None  # once a day
    assert run("a:1", night + timedelta(days=1)) == 4
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == 4
