"""Open311 conformance (discovery as XML, a changeset that follows the catalogue) and the sync
extensions of GET requests (updated_after, page, page_size)."""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from app import create_app
from cases.models import Case
from tests.fakes import FakeNLU

BASE = "/open311/v2/requests.json"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    yield app
    app.extensions["civicline"].db.dispose()


def plant(app, rows: list[tuple[datetime, datetime]]) -> list[str]:
    """Cases requested and last updated at the given times; their numbers, in order."""
    numbers = [f"311-9{i:06d}" for i in range(len(rows))]
    with app.extensions["civicline"].Session() as s, s.begin():
        s.execute(
            insert(Case),
            [
                {
                    "service_request_id": number,
                    "service_code": "PW-POTHOLE",
                    "service_name": "Pothole",
                    "agency_responsible": "Department of Public Works",
                    "source": "open311",
                    "address": "120 Elm Street",
                    "requested_datetime": requested,
                    "updated_datetime": updated,
                }
                for number, (requested, updated) in zip(numbers, rows, strict=True)
            ],
        )
    return numbers


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["service_request_id"] for r in resp.get_json()]


def test_discovery_is_xml_with_the_specs_elements(app):
    client = app.test_client()
    resp = client.get("/open311/discovery.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    root = ET.fromstring(resp.get_data())
    assert root.tag == "discovery"
    assert {c.tag for c in root} == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = root.find("endpoints")
    assert endpoint.tag == "endpoint"
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2")
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    datetime.strptime(root.findtext("changeset"), "%Y-%m-%dT%H:%M:%SZ")
    as_json = client.get("/open311/discovery.json")
    assert as_json.mimetype == "application/json"
    assert as_json.get_json()["changeset"] == root.findtext("changeset")


def test_discovery_in_an_unknown_format_is_a_404(app):
    resp = app.test_client().get("/open311/discovery.foo")
    assert resp.status_code == 404 and resp.get_json()[0]["code"] == 404


def test_changeset_follows_the_catalogue_and_agrees_across_machines(settings, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(settings.data_dir, data)
    settings = replace(settings, data_dir=data)

    def changeset() -> str:
        app = create_app(settings, nlu=FakeNLU())
        try:
            return app.test_client().get("/open311/discovery.json").get_json()["changeset"]
        finally:
            app.extensions["civicline"].db.dispose()

    first, second_machine = changeset(), changeset()
    assert first == second_machine  # two app instances on one database
    services = data / "services.yml"
    services.write_text(services.read_text().replace("agency: Police Department", "agency: PD", 1))

    time.sleep(1.1)  # the changeset has one-second precision
    changed = changeset()
    assert changed > first and changeset() == changed


def test_updated_after_returns_exactly_the_cases_changed_since(app):
    since = NOW - timedelta(hours=1)
    numbers = plant(
        app,
        [
            (NOW - timedelta(days=200), since + timedelta(minutes=5)),  # old case, changed since
            (NOW - timedelta(days=2), since - timedelta(minutes=5)),  # changed before
            (NOW - timedelta(days=1), since + timedelta(minutes=1)),
            (NOW - timedelta(days=3), since),  # exactly at: not after
        ],
    )
    client = app.test_client()
    got = ids(client.get(BASE, query_string={"updated_after": since.isoformat()}))
    assert got == [numbers[2], numbers[0]]  # oldest change first
    # a status change through the lifecycle moves a case into the next sync
    with app.extensions["civicline"].Session() as s, s.begin():
        s.execute(
            update(Case)
            .where(Case.service_request_id == numbers[1])
            .values(updated_datetime=NOW + timedelta(minutes=1))
        )
    got = ids(client.get(BASE, query_string={"updated_after": since.isoformat()}))
    assert got == [numbers[2], numbers[0], numbers[1]]
    bad = client.get(BASE, query_string={"updated_after": "2026-12-01T00:00:00"})
    assert bad.status_code == 400 and "time zone" in bad.get_json()[0]["description"]


def test_update_case_moves_updated_datetime(app):
    from cases.lifecycle import Change, update_case
    from cases.users import create_user

    [number] = plant(app, [(NOW - timedelta(days=1), NOW - timedelta(days=1))])
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="sam", password="x" * 12, role="supervisor")
        case = s.query(Case).filter_by(service_request_id=number).one()
        update_case(
            db_session=s,
            case=case,
            change=Change("assigned", assigned_to="Crew 4"),
            actor=staff,
            wording=runtime.bot.wording,
        )
    since = (NOW - timedelta(minutes=1)).isoformat()
    assert ids(app.test_client().get(BASE, query_string={"updated_after": since})) == [number]


def test_pages_are_stable_without_duplicates_or_gaps(app):
    start = NOW - timedelta(days=10)
    # 25 cases, several sharing one updated_datetime: id breaks the tie
    numbers = plant(app, [(start, start + timedelta(minutes=i // 3)) for i in range(25)])
    client = app.test_client()
    seen = []
    for page in range(1, 5):
        got = ids(client.get(BASE, query_string={"page": page, "page_size": 7}))
        assert len(got) == (7 if page < 4 else 4)
        seen += got
    assert seen == numbers
    assert ids(client.get(BASE, query_string={"page": 5, "page_size": 7})) == []
    for bad in ({"page_size": 1001}, {"page": 0}, {"page_size": "x"}, {"page": "-1"}):
        assert client.get(BASE, query_string=bad).status_code == 400


def test_without_the_extensions_the_specs_defaults_stand(app):
    rows = [(NOW - timedelta(days=100), NOW)] + [
        (NOW - timedelta(days=1, seconds=i), NOW) for i in range(1001)
    ]
    numbers = plant(app, rows)
    got = ids(app.test_client().get(BASE))
    assert len(got) == 1000  # at most 1000, the last 90 days, newest first
    assert numbers[0] not in got and got[0] == numbers[1] and numbers[-1] not in got
