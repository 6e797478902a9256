"""The console shows, filters and counts residents' languages (Flask test client, real database)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import create_app
from cases.models import Case, Conversation
from tests.console_helpers import add_staff, sign_in, text
from tests.fakes import FakeNLU

ES_PHONE, EN_PHONE = "+15550100611", "+15550100612"


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    add_staff(app.extensions["civicline"])
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def runtime(app):
    return app.extensions["civicline"]


@pytest.fixture
def sam(app):
    client = app.test_client()
    assert sign_in(client, "sam").status_code == 302
    return client


@pytest.fixture
def two_cases(runtime) -> dict[str, str]:
    """A Spanish and an English report, each filed: language -> case number."""
    text(runtime, "hay un bache enorme en la calle Elm", sender=ES_PHONE)
    text(runtime, "enfrente del 120", sender=ES_PHONE)
    spanish = text(runtime, "si", sender=ES_PHONE).case_number
    text(runtime, "pothole at 5 elm st", sender=EN_PHONE)
    english = text(runtime, "yes", sender=EN_PHONE).case_number
    with runtime.Session() as s:
        languages = {c.service_request_id: c.language for c in s.scalars(select(Case))}
    assert languages == {spanish: "es", english: "en"}
    return {"es": spanish, "en": english}


def rows(page: str, table: str) -> list[str]:
    """The body rows of a list table."""
    body = re.search(rf'<table class="list[^"]*" id="{table}">.*?<tbody>(.*?)</tbody>', page, re.S)
    return re.findall(r"<tr.*?</tr>", body.group(1), re.S)


def badge(code: str, name: str) -> str:
    return f'class="badge lang lang-{code}" title="{name}">{code.upper()}</span>'


def test_conversation_list_shows_and_filters_by_language(sam, two_cases):
    page = sam.get("/console/conversations").get_data(as_text=True)
    assert badge("es", "Spanish (Español)") in page and badge("en", "English") in page
    assert '<option value="es" >Spanish</option>' in page
    only = sam.get("/console/conversations?language=es").get_data(as_text=True)
    [row] = rows(only, "conversations")
    assert "hay un bache" in row and badge("es", "Spanish (Español)") in row
    assert '<option value="es" selected>Spanish</option>' in only  # the filter persists
    [row] = rows(
        sam.get("/console/conversations?language=en").get_data(as_text=True), "conversations"
    )
    assert "pothole at 5 elm st" in row
    ignored = sam.get("/console/conversations?language=tlh").get_data(as_text=True)
    assert len(rows(ignored, "conversations")) == 2  # an unknown value is ignored, like a bad date


def test_conversation_page_shows_the_language(sam, runtime, two_cases):
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.sender == ES_PHONE)).one()
    page = sam.get(f"/console/conversations/{conv.id}").get_data(as_text=True)
    assert badge("es", "Spanish (Español)") in page
    assert "<dt>Language</dt><dd>Spanish (Español)</dd>" in page


def test_case_list_and_page_show_and_filter_by_language(sam, two_cases):
    page = sam.get("/console/cases").get_data(as_text=True)
    assert len(rows(page, "cases")) == 2 and badge("es", "Spanish (Español)") in page
    [row] = rows(sam.get("/console/cases?language=es").get_data(as_text=True), "cases")
    assert two_cases["es"] in row and two_cases["en"] not in row
    [row] = rows(sam.get("/console/cases?language=en&status=open").get_data(as_text=True), "cases")
    assert two_cases["en"] in row
    assert len(rows(sam.get("/console/cases?language=xx").get_data(as_text=True), "cases")) == 2
    case_page = sam.get(f"/console/cases/{two_cases['es']}").get_data(as_text=True)
    assert (
        badge("es", "Spanish (Español)") in case_page and "Spanish (Español): status" in case_page
    )


def test_handoff_shows_the_language_beside_the_reply_box(sam, runtime):
    text(runtime, "quiero hablar con una persona", sender=ES_PHONE)
    text(runtime, "i want to talk to a person", sender=EN_PHONE)
    with runtime.Session() as s:
        convs = {c.sender: c for c in s.scalars(select(Conversation))}
    assert convs[ES_PHONE].language == "es" and convs[ES_PHONE].handoff_status == "waiting"
    queue = sam.get("/console/handoffs").get_data(as_text=True)
    assert len(rows(queue, "handoffs")) == 2 and badge("es", "Spanish (Español)") in queue
    page = sam.get(f"/console/conversations/{convs[ES_PHONE].id}").get_data(as_text=True)
    hint = re.search(r'<p class="lang-hint" id="reply-language">(.*?)</p>', page, re.S).group(1)
    assert "Resident writes in Spanish — reply in Spanish." in hint and "as typed" in hint
    assert page.index(hint) < page.index('name="text"')  # beside the reply box
    english = sam.get(f"/console/conversations/{convs[EN_PHONE].id}").get_data(as_text=True)
    assert "Resident writes in English — reply in English." in english


def test_dashboard_counts_volume_by_language(sam, runtime, two_cases):
    text(runtime, "¿qué día pasa la basura?", sender="+15550100613")  # Spanish, no case
    page = sam.get("/console/").get_data(as_text=True)
    table = {
        code: (int(convs), int(cases))
        for code, convs, cases in re.findall(
            r'<tr data-language="(\w+)">.*?<td class="num">(\d+)</td><td class="num">(\d+)</td>',
            page,
            re.S,
        )
    }
    assert table == {"en": (1, 1), "es": (2, 1)}
    assert "Volume by language" in page and page.count("<svg") == 7
