"""Open311 GeoReport v2 over HTTP, validated against the published schemas."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.api_keys import create_api_key
from cases.models import Case
from tests.fakes import FakeNLU
from tests.open311_schemas import post_response_validator, validate

BASE = "/open311/v2"


@pytest.fixture
def api(settings):
    """An app (fake NLU: the API does not use it) and a valid API key."""
    app = create_app(settings, nlu=FakeNLU())
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="work-orders")
    yield app.test_client(), key, runtime
    runtime.db.dispose()


def file(client, key, **fields):
    form = {
        "api_key": key,
        "service_code": "PW-POTHOLE",
        "lat": "42.1061",
        "long": "-72.5948",
        "attribute[size]": "large",
        "description": "Deep pothole in the bike lane",
        **fields,
    }
    return client.post(f"{BASE}/requests.json", data=form)


def count(runtime) -> int:
    with runtime.Session() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_service_list_matches_schema_and_catalogue(api):
    client, _, runtime = api
    resp = client.get(f"{BASE}/services.json")
    assert resp.status_code == 200 and resp.content_type.startswith("application/json")
    doc = resp.get_json()
    validate("services.json", doc)
    assert all(isinstance(s, dict) for s in doc)  # the schema itself does not check this
    assert [s["service_code"] for s in doc] == [s.service_code for s in runtime.catalog.services]
    noise = next(s for s in doc if s["service_code"] == "PD-NOISE")
    assert noise["metadata"] is True and noise["type"] == "realtime" and noise["group"]


def test_service_definition_is_the_dialogues_questions(api):
    client, _, runtime = api
    doc = client.get(f"{BASE}/services/HI-NOHEAT.json").get_json()
    validate("service-definition.json", doc)
    problem = next(a for a in doc["attributes"] if a["code"] == "problem")
    service = runtime.catalog.by_code["HI-NOHEAT"]
    assert problem["required"] is True and problem["datatype"] == "singlevaluelist"
    assert problem["description"] == service.attribute("problem").description
    assert [v["key"] for v in problem["values"]] == [
        v.key for v in service.attribute("problem").values
    ]
    assert [a["order"] for a in doc["attributes"]] == sorted(a["order"] for a in doc["attributes"])


def test_create_find_and_search_a_request(api):
    client, key, runtime = api
    resp = file(client, key, email="r@example.com", first_name="Rita", phone="+15550100009")
    assert resp.status_code == 201
    created = resp.get_json()
    post_response_validator().validate(created)
    number = created[0]["service_request_id"]
    assert re.fullmatch(r"311-\d{6}", number) and created[0]["service_notice"]
    one = client.get(f"{BASE}/requests/{number}.json").get_json()
    validate("requests.json", one)
    assert len(one) == 1 and one[0]["status"] == "open" and one[0]["lat"] == 42.1061
    assert one[0]["agency_responsible"] == "Department of Public Works"
    text = json.dumps(one)
    assert "r@example.com" not in text and "Rita" not in text and "5550100009" not in text
    found = client.get(f"{BASE}/requests.json?service_request_id={number},311-999999").get_json()
    assert [r["service_request_id"] for r in found] == [number]
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
    assert case.source == "open311" and case.api_key_id is not None
    assert case.contact_email == "r@example.com"


def test_address_string_is_matched_to_the_street_list(api):
    client, key, _ = api
    resp = file(client, key, lat="", long="", address_string="120 elm st")
    number = resp.get_json()[0]["service_request_id"]
    doc = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert doc[0]["address"] == "120 Elm Street" and doc[0]["lat"] is not None


def test_search_filters_and_orders_newest_first(api):
    client, key, _ = api
    file(client, key)
    file(client, key, service_code="DOT-SIGNAL", **{"attribute[size]": ""})
    docs = client.get(f"{BASE}/requests.json").get_json()
    validate("requests.json", docs)
    assert [d["service_code"] for d in docs] == ["DOT-SIGNAL", "PW-POTHOLE"]
    only = client.get(f"{BASE}/requests.json?service_code=PW-POTHOLE&status=open").get_json()
    assert [d["service_code"] for d in only] == ["PW-POTHOLE"]
    none = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert none == []
    future = client.get(f"{BASE}/requests.json?start_date=2030-01-01T00:00:00Z").get_json()
    assert future == []


def test_xml_carries_the_same_fields_as_json(api):
    client, key, _ = api
    number = file(client, key).get_json()[0]["service_request_id"]
    as_json = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    resp = client.get(f"{BASE}/requests/{number}.xml")
    assert resp.content_type.startswith("text/xml")
    root = ET.fromstring(resp.data)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert {child.tag for child in request} == set(as_json)
    for field, value in as_json.items():
        assert (request.find(field).text or "") == ("" if value is None else str(value))
    services = ET.fromstring(client.get(f"{BASE}/services.xml").data)
    assert services.tag == "services" and len(services.findall("service")) == 14
    definition = ET.fromstring(client.get(f"{BASE}/services/PD-NOISE.xml").data)
    assert definition.find("attributes/attribute/values/value/key") is not None


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "cl_wrong"}, 403, "api_key"),
        ({"service_code": "NOPE"}, 404, "not found"),
        ({"service_code": ""}, 400, "service_code"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"lat": "95"}, 400, "lat"),
        ({"long": ""}, 400, "together"),
        ({"attribute[size]": "enormous"}, 400, "one of"),
        ({"attribute[colour]": "red"}, 400, "not defined"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
def test_bad_posts_get_spec_errors_and_store_nothing(api, fields, status, words):
    client, key, runtime = api
    resp = file(client, key, **fields)
    assert resp.status_code == status
    body = resp.get_json()
    assert isinstance(body, list) and body[0]["code"] == status and words in body[0]["description"]
    assert count(runtime) == 0


def test_required_attribute_is_enforced(api):
    client, key, _ = api
    resp = file(client, key, service_code="HI-NOHEAT", **{"attribute[size]": ""})
    assert resp.status_code == 400 and "attribute[problem]" in resp.get_json()[0]["description"]


def test_revoked_key_cannot_write_but_anyone_can_read(api):
    client, key, runtime = api
    from cases.api_keys import revoke_api_key

    with runtime.Session() as s, s.begin():
        revoke_api_key(db_session=s, name="work-orders")
    assert file(client, key).status_code == 403
    assert client.get(f"{BASE}/requests.json").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/requests/311-424242.json",
        f"{BASE}/nothing.json",
        f"{BASE}/services.csv",
        f"{BASE}/services/NOPE.xml",
    ],
)
def test_unknown_things_are_404_in_open311_shape(api, path):
    client, _, _ = api
    resp = client.get(path)
    assert resp.status_code == 404
    if path.endswith(".xml"):
        assert ET.fromstring(resp.data).tag == "errors"
    else:
        assert resp.get_json()[0]["code"] == 404


def test_bad_dates_are_400(api):
    client, _, _ = api
    for query in (
        "start_date=yesterday",
        "end_date=2026-01-01T00:00:00",
        "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "status=pending",
    ):
        resp = client.get(f"{BASE}/requests.json?{query}")
        assert resp.status_code == 400 and resp.get_json()[0]["code"] == 400, query


def test_jurisdiction_is_checked_when_configured(settings):
    app = create_app(replace(settings, jurisdiction_id="riverton.example.gov"), nlu=FakeNLU())
    client = app.test_client()
    assert (
        client.get(f"{BASE}/services.json?jurisdiction_id=riverton.example.gov").status_code == 200
    )
    assert client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere").status_code == 404
    assert client.get(f"{BASE}/services.json").status_code == 200


def test_discovery_lists_the_endpoint(api):
    client, _, _ = api
    doc = client.get("/open311/discovery.json").get_json()
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")
    assert "application/json" in doc["endpoints"][0]["formats"]


def test_duplicate_report_is_linked(api):
    client, key, _ = api
    first = file(client, key).get_json()[0]["service_request_id"]
    second = file(client, key).get_json()[0]
    assert f"Already reported as {first}" in second["service_notice"]


@pytest.mark.rasa
def test_case_filed_by_sms_is_visible_through_the_api(sms, client):
    sms("pothole at 120 elm st")
    number = re.search(r"311-\d{6}", sms("yes").text).group(0)
    docs = client.get(f"{BASE}/requests.json").get_json()
    validate("requests.json", docs)
    assert [d["service_request_id"] for d in docs] == [number]
    assert docs[0]["address"] == "120 Elm Street" and "+1555" not in json.dumps(docs)


def test_cli_creates_lists_and_revokes_keys(settings):
    app = create_app(settings, nlu=FakeNLU())
    runner = app.test_cli_runner()
    created = runner.invoke(args=["open311", "create-key", "partner app"])
    assert created.exit_code == 0 and created.output.startswith("cl_")
    assert runner.invoke(args=["open311", "create-key", "partner app"]).exit_code != 0
    listed = runner.invoke(args=["open311", "list-keys"])
    assert "partner app" in listed.output and created.output.strip() not in listed.output
    assert runner.invoke(args=["open311", "revoke-key", "partner app"]).exit_code == 0
    key = created.output.strip()
    resp = app.test_client().post(f"{BASE}/requests.json", data={"api_key": key})
    assert resp.status_code == 403


def test_statuses_map_to_open_and_closed_with_words_and_the_notes_extension(api):
    from cases.lifecycle import Change, update_case
    from cases.users import create_user

    client, key, runtime = api
    numbers = [file(client, key).get_json()[0]["service_request_id"] for _ in range(3)]
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="ana", password="x" * 12, role="supervisor")
        cases = [s.scalars(select(Case).where(Case.service_request_id == n)).one() for n in numbers]

        def change(case, status, **fields):
            update_case(
                db_session=s,
                case=case,
                change=Change(status, **fields),
                actor=staff,
                wording=runtime.bot.wording,
            )

        change(cases[0], "assigned", assigned_to="DPW Crew 4", notes="Tenant Ana Ruiz 4B")
        change(cases[0], "in_progress", public_note="Crew on site.")
        change(cases[1], "closed", resolution="unable_to_act", reason="Private road.",
               public_note="This road is private.")  # fmt: skip
    statuses = {
        r["service_request_id"]: (r["status"], r["status_description"])
        for r in client.get(f"{BASE}/requests.json").get_json()
    }
    assert statuses[numbers[0]] == ("open", "In progress")
    assert statuses[numbers[1]] == ("closed", "Closed: the city could not act: Private road.")
    assert statuses[numbers[2]] == ("open", "Received")
    closed = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [numbers[1]]
    still_open = client.get(f"{BASE}/requests.json?status=open").get_json()
    assert {r["service_request_id"] for r in still_open} == {numbers[0], numbers[2]}
    plain = client.get(f"{BASE}/requests/{numbers[0]}.json").get_json()[0]
    assert "notes" not in plain  # the extension only when asked for
    [body] = client.get(f"{BASE}/requests/{numbers[0]}.json?extensions=true").get_json()
    validate("requests.json", [body])
    assert [(n["type"], n["summary"]) for n in body["notes"]] == [
        ("received", "Received"),
        ("assigned", "Assigned to DPW Crew 4"),
        ("in_progress", "In progress"),
    ]
    assert body["notes"][2]["description"] == "Crew on site." and "Ana" not in json.dumps(body)
    xml = client.get(f"{BASE}/requests/{numbers[0]}.xml?extensions=true").get_data(as_text=True)
    notes = ET.fromstring(xml).find("request/notes")
    assert notes is not None and [n.findtext("type") for n in notes.iter("note")] == [
        "received",
        "assigned",
        "in_progress",
    ]
