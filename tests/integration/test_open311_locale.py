"""Open311's `locale` extension: services in Spanish, refused locales, a cache per locale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.api_keys import create_api_key
from cases.lifecycle import Change, update_case
from cases.models import Case, OutboundMessage
from cases.users import create_user
from tests.fakes import FakeNLU
from tests.open311_schemas import post_response_validator, validate

BASE = "/open311/v2"


def make_api(settings):
    app = create_app(settings, nlu=FakeNLU())
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="work-orders")
    return app.test_client(), key, runtime


@pytest.fixture
def api(settings):
    """An app (fake NLU: the API does not use it) and a valid API key."""
    client, key, runtime = make_api(settings)
    yield client, key, runtime
    runtime.db.dispose()


def test_spanish_service_list_matches_schema_and_translations(api):
    client, _, runtime = api
    english = client.get(f"{BASE}/services.json").get_json()
    resp = client.get(f"{BASE}/services.json?locale=es")
    assert resp.status_code == 200 and resp.content_type.startswith("application/json")
    doc = resp.get_json()
    validate("services.json", doc)
    assert all(isinstance(s, dict) for s in doc)
    spanish = runtime.catalog.localized("es")
    assert [s["service_code"] for s in doc] == [s["service_code"] for s in english]
    noise = next(s for s in doc if s["service_code"] == "PD-NOISE")
    assert noise["service_name"] == "Queja por ruido" == spanish.by_code["PD-NOISE"].service_name
    assert noise["description"].startswith("Reporte música alta") and "ruido" in noise["keywords"]
    assert [s["group"] for s in doc] == [s["group"] for s in english]  # groups stay as they are
    assert [s["metadata"] for s in doc] == [s["metadata"] for s in english]
    assert client.get(f"{BASE}/services.json?locale=en").get_json() == english
    assert client.get(f"{BASE}/services.json?locale=es-US").get_json() == doc


def test_spanish_service_definition_and_xml(api):
    client, _, _ = api
    doc = client.get(f"{BASE}/services/PD-NOISE.json?locale=es").get_json()
    validate("service-definition.json", doc)
    english = client.get(f"{BASE}/services/PD-NOISE.json").get_json()
    [noise_type] = [a for a in doc["attributes"] if a["code"] == "noise_type"]
    assert noise_type["description"] == "¿Qué tipo de ruido es?"
    assert noise_type["datatype_description"] == "Responda 1, 2, 3, 4 o 5."
    assert noise_type["values"][0] == {"key": "music_party", "name": "Música alta o fiesta"}

    def shape(attributes: list[dict]) -> list[tuple]:
        """What must not change with the language: codes, types, order, required, value keys."""
        return [
            (
                a["code"],
                a["datatype"],
                a["order"],
                a["required"],
                [v["key"] for v in a.get("values", [])],
            )
            for a in attributes
        ]

    assert shape(doc["attributes"]) == shape(english["attributes"])
    services = ET.fromstring(client.get(f"{BASE}/services.xml?locale=es").data)
    names = {s.findtext("service_code"): s.findtext("service_name") for s in services}
    assert names["PD-NOISE"] == "Queja por ruido" and len(names) == 14
    definition = ET.fromstring(client.get(f"{BASE}/services/PD-NOISE.xml?locale=es").data)
    assert definition.findtext("attributes/attribute/values/value/name") == "Música alta o fiesta"


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/services.json?locale=fr",
        f"{BASE}/services.xml?locale=fr",
        f"{BASE}/services/PD-NOISE.json?locale=klingon",
        f"{BASE}/services/PD-NOISE.xml?locale=fr-CA",
    ],
)
def test_an_unknown_locale_is_a_400_in_open311_shape(api, path):
    client, _, _ = api
    resp = client.get(path)
    assert resp.status_code == 400
    if ".xml" in path:
        error = ET.fromstring(resp.data).find("error")
        assert error.findtext("code") == "400"
        description = error.findtext("description")
    else:
        [body] = resp.get_json()
        assert body["code"] == 400
        description = body["description"]
    assert "is not supported" in description and "en, es" in description


def test_the_public_cache_keeps_each_locale_apart(settings):
    client, _, runtime = make_api(replace(settings, public_cache_seconds=60))
    try:
        english = client.get(f"{BASE}/services.json").get_json()
        spanish = client.get(f"{BASE}/services.json?locale=es").get_json()
        assert english[0]["service_name"] != spanish[0]["service_name"]
        assert client.get(f"{BASE}/services.json").get_json() == english  # a hit, still English
        assert client.get(f"{BASE}/services.json?locale=es").get_json() == spanish
        assert client.get(f"{BASE}/services.json?locale=fr").status_code == 400
        assert client.get(f"{BASE}/services.json?locale=fr").status_code == 400  # never cached
        keys = list(client.application.extensions["civicline.public_cache"].entries)
        assert any(k.startswith("es|services|") for k in keys)
        assert any(k.startswith("en|services|") for k in keys)
    finally:
        runtime.db.dispose()


def test_a_request_filed_with_locale_es_is_spanish_for_its_reporter(api):
    client, key, runtime = api
    form = {
        "api_key": key,
        "service_code": "PW-POTHOLE",
        "address_string": "120 Elm St",
        "attribute[size]": "large",
        "phone": "+15550100777",
        "locale": "es",
    }
    resp = client.post(f"{BASE}/requests.json", data=form)
    assert resp.status_code == 201
    created = resp.get_json()
    post_response_validator().validate(created)
    spanish = runtime.catalog.localized("es").by_code["PW-POTHOLE"]
    assert created[0]["service_notice"] == spanish.next_steps
    again = client.post(f"{BASE}/requests.json", data=form).get_json()[0]["service_notice"]
    assert again.startswith("Este lugar ya se había reportado en el caso")
    number = created[0]["service_request_id"]
    public = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert public["service_name"] == "Pothole"  # the public record stays in English
    with runtime.Session() as s, s.begin():
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        assert case.language == "es"
        staff = create_user(db_session=s, username="ana", password="x" * 12, role="supervisor")
        update_case(
            db_session=s,
            case=case,
            change=Change("closed", notes="", public_note="Reparado.", resolution="fixed"),
            actor=staff,
            wording=runtime.bot.wording,
        )
    with runtime.Session() as s:
        body = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.reason == "case_status")
        ).one()
    assert "Bache" in body and "cerrado" in body


def test_a_post_with_an_unknown_locale_files_nothing(api):
    client, key, runtime = api
    resp = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": "PW-POTHOLE",
            "lat": "42.1",
            "long": "-72.5",
            "attribute[size]": "large",
            "locale": "fr",
        },
    )
    assert resp.status_code == 400 and "locale" in resp.get_json()[0]["description"]
    with runtime.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
