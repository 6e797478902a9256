"""Spanish calls through the real Rasa servers of both languages: TwiML language, voice, keys."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from app import create_app
from cases.models import Case, Conversation, OutboundMessage
from tests.integration.test_voice_calls import CALLER, Call, spoken

pytestmark = pytest.mark.rasa


@pytest.fixture
def app(settings, rasa_server, rasa_server_es):
    app = create_app(
        replace(
            settings,
            rasa_url=rasa_server.url,
            rasa_token=rasa_server.token,
            rasa_language_urls={"es": rasa_server_es.url},
        )
    )
    yield app
    app.extensions["civicline"].db.dispose()


def gather_of(root):
    gather = root.find("Gather")
    assert gather is not None
    return gather


def test_keypad_nine_at_the_welcome_makes_the_call_spanish_and_files_in_spanish(app):
    call = Call(app.test_client())
    welcome = call.answer()
    assert "Para español, oprima nueve" in spoken(welcome)
    assert gather_of(welcome).get("input") == "speech dtmf"
    switched = call.press("9")
    gather = gather_of(switched)
    assert gather.get("language") == "es-US" and "español" in gather.get("hints")
    assert all(
        s.get("voice") == "Polly.Lupe" and s.get("language") == "es-US"
        for s in switched.iter("Say")
    )
    asked = call.say("hay un bache enorme en la calle elm")
    assert "Elm Street" in spoken(asked) and gather_of(asked).get("language") == "es-US"
    readback = call.say("enfrente del ciento veinte")
    assert "120 Elm Street" in spoken(readback)
    filed = call.press("1")
    with app.extensions["civicline"].Session() as s:
        [case] = s.scalars(select(Case)).all()
    assert case.language == "es" and case.address == "120 Elm Street"
    number = case.service_request_id.replace("-", "")
    assert number in spoken(filed).replace(" ", "").replace(",", "")
    call.press("1")  # yes, text me the number
    with app.extensions["civicline"].Session() as s:
        [text] = s.scalars(select(OutboundMessage)).all()
    assert "caso" in text.body and case.service_request_id in text.body


def test_saying_espanol_switches_a_call_too(app):
    call = Call(app.test_client())
    call.answer()
    switched = call.say("Español")
    assert gather_of(switched).get("language") == "es-US"
    back = call.say("english")
    assert gather_of(back).get("language") == "en-US"


def test_keypad_eight_moves_the_report_to_text_and_hangs_up(app):
    call = Call(app.test_client())
    call.answer()
    call.say("there is a pothole on elm street")
    bye = call.press("8")
    assert bye.find("Hangup") is not None and "continue by text" in spoken(bye)
    with app.extensions["civicline"].Session() as s:
        [text] = s.scalars(select(OutboundMessage)).all()
        sms = s.scalars(select(Conversation).where(Conversation.channel == "sms")).one()
    assert text.to == CALLER and "Elm Street" in text.body
    assert sms.state.get("report", {}).get("street") == "Elm Street"
