"""The service catalogue and the knowledge base, from the real data files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.catalog import Catalog, CatalogError
from bot.knowledge import Answer, KnowledgeBase

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(DATA / "services.yml")


@pytest.fixture
def noise_type(catalog):
    return catalog.by_intent["noise_complaint"].attribute("noise_type")


def test_catalog_has_fourteen_services_with_unique_codes(catalog):
    codes = [s.service_code for s in catalog.services]
    assert len(catalog.services) == 14
    assert len(set(codes)) == 14
    assert len({s.intent for s in catalog.services}) == 14
    assert catalog.by_code["PW-POTHOLE"] is catalog.by_intent["pothole"]


def test_required_attributes_are_lists_with_values(catalog):
    required = [a for s in catalog.services for a in s.attributes if a.required]
    assert required
    for attr in required:
        assert attr.datatype == "singlevaluelist", attr.code
        assert attr.values, attr.code


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1", "music_party"),
        (" 3. ", "barking_dog"),
        ("5", "other"),
        ("music_party", "music_party"),
        ("Construction", "construction"),
        ("barking dog", "barking_dog"),
        ("the dogs next door", "barking_dog"),
        ("car alarm going off", "vehicle"),
        ("something else", "other"),
        ("0", None),
        ("6", None),
        ("xyz", None),
    ],
)
def test_find_value(noise_type, text, key):
    value = noise_type.find_value(text)
    assert (value and value.key) == key


def test_question_numbers_the_choices(noise_type):
    assert noise_type.question() == (
        "What kind of noise is it? 1) Loud music or party 2) Construction 3) Barking dog "
        "4) Car alarm or vehicle 5) Something else"
    )


def test_question_without_choices_is_the_description(catalog):
    unit = catalog.by_intent["no_heat_hot_water"].attribute("unit")
    assert unit.values == () and unit.question() == unit.description


SERVICE = {
    "intent": "pothole",
    "service_code": "PW-POTHOLE",
    "service_name": "Pothole",
    "description": "A hole in the road.",
    "agency": "Public Works",
    "location_prompt": "Where?",
    "next_steps": "A crew will come.",
    "attributes": [
        {
            "code": "size",
            "datatype": "singlevaluelist",
            "description": "How big?",
            "values": [{"key": "small", "name": "Small"}],
        }
    ],
}


def _write(tmp_path: Path, *services: dict) -> Path:
    path = tmp_path / "services.yml"
    path.write_text(yaml.safe_dump({"services": list(services)}), encoding="utf-8")
    return path


def test_minimal_catalogue_loads(tmp_path):
    service = Catalog.load(_write(tmp_path, SERVICE)).by_code["PW-POTHOLE"]
    assert service.location_kind == "street" and service.attribute("size").values[0].key == "small"


def _without_agency(s):
    del s["agency"]


def _without_attribute_code(s):
    del s["attributes"][0]["code"]


def _bad_datatype(s):
    s["attributes"][0]["datatype"] = "multivaluelist"


def _list_without_values(s):
    s["attributes"][0]["values"] = []


def _bad_location_kind(s):
    s["location_kind"] = "park"


def _description_without_prompt(s):
    s["needs_description"] = True


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_without_agency, "missing field 'agency'"),
        (_without_attribute_code, "missing field 'code'"),
        (_bad_datatype, "datatype must be one of"),
        (_list_without_values, "singlevaluelist needs values"),
        (_bad_location_kind, "location_kind"),
        (_description_without_prompt, "description_prompt"),
    ],
)
def test_malformed_service_is_rejected(tmp_path, breakage, message):
    service = copy.deepcopy(SERVICE)
    breakage(service)
    with pytest.raises(CatalogError, match=message):
        Catalog.load(_write(tmp_path, service))


@pytest.mark.parametrize("field", ["service_code", "intent"])
def test_duplicate_code_or_intent_is_rejected(tmp_path, field):
    other = {**SERVICE, "intent": "pothole_2", "service_code": "PW-OTHER"}
    other[field] = SERVICE[field]
    with pytest.raises(CatalogError, match="unique"):
        Catalog.load(_write(tmp_path, SERVICE, other))


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.load(DATA / "knowledge_base.yml")


def test_every_answer_has_a_link_or_phone_in_its_sms(knowledge):
    assert len(knowledge.by_intent) == 6
    for answer in knowledge.by_intent.values():
        assert answer.link or answer.phone, answer.intent
        sms = answer.sms()
        assert sms.startswith(answer.answer)
        for contact in (answer.link, answer.phone):
            if contact:
                assert sms.count(contact) == 1, (answer.intent, contact)


def test_sms_adds_missing_link_and_phone_once():
    answer = Answer("x", "X", "Open daily.", "https://x.example", "(555) 010-0000", "Open daily.")
    assert answer.sms() == "Open daily. More: https://x.example Call (555) 010-0000."


def test_sms_does_not_repeat_phone_already_in_answer():
    text = "Call Public Works at (555) 010-0120."
    answer = Answer("x", "X", text, None, "(555) 010-0120", text)
    assert answer.sms() == text
