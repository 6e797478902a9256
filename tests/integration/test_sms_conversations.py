"""Every numbered SMS behaviour of the foundation, through Rasa, the store and the webhook."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.models import Case, Conversation, OptOut, Turn

pytestmark = pytest.mark.rasa
CASE_RE = re.compile(r"311-\d{6,}")


def cases(app) -> list[Case]:
    with app.extensions["civicline"].Session() as s:
        return list(s.scalars(select(Case)))


def test_pothole_reported_in_three_messages(sms, app):
    first = sms("there's a huge pothole on Elm St")
    assert first.status == 200 and "<Response><Message>" in first.xml
    assert "Elm Street" in first.text and "cross street" in first.text
    confirm = sms("in front of 120")
    assert "Pothole at 120 Elm Street" in confirm.text and "YES" in confirm.text
    filed = sms("yes")
    number = CASE_RE.search(filed.text).group(0)
    [case] = cases(app)
    assert case.service_request_id == number
    assert (case.service_code, case.address, case.status) == (
        "PW-POTHOLE",
        "120 Elm Street",
        "received",
    )
    assert case.agency_responsible == "Department of Public Works"
    assert case.contact_phone == "+15550100007"


def test_no_heat_asks_for_the_building_only(sms, app):
    assert "building address" in sms("my apartment has had no heat since friday").text
    confirm = sms("44 Maple Ave")
    assert (
        "No Heat or Hot Water at 44 Maple Avenue" in confirm.text
        and "Problem: No heat" in confirm.text
    )
    assert CASE_RE.search(sms("yes").text)
    [case] = cases(app)
    assert case.service_code == "HI-NOHEAT" and case.attributes == {"problem": "no_heat"}


@pytest.mark.parametrize("word", ["no", "cancel that", "start over"])
def test_cancel_at_any_step(sms, app, word):
    sms("somebody dumped a pile of old tires in the alley behind 50 oak ave")
    assert "cancelled" in sms(word).text
    assert cases(app) == []


def test_knowledge_base_answer(sms, app):
    reply = sms("when is trash pickup?")
    assert "riverton.example.gov" in reply.text
    assert cases(app) == []


def test_status_of_a_filed_case_and_an_unknown_one(sms):
    sms("streetlight out at 10 pine st")
    number = CASE_RE.search(sms("yes").text).group(0)
    status = sms(f"status of {number}")
    assert number in status.text and "open" in status.text and "Last update" in status.text
    unknown = sms("what's the status of 311-987654")
    assert "couldn't find case 311-987654" in unknown.text


@pytest.mark.parametrize(
    "text",
    [
        "someone is breaking into my neighbor's house",
        "there's a fire",
        "a man collapsed on the sidewalk and isnt breathing",
    ],
)
def test_emergency_gets_911_and_no_case(sms, app, text):
    reply = sms(text)
    assert "Call 911 now" in reply.text
    assert cases(app) == []


def test_request_human_is_queued(sms, app):
    reply = sms("I want to talk to a person")
    assert "staff member" in reply.text
    with app.extensions["civicline"].Session() as s:
        conv = s.scalars(select(Conversation)).one()
    assert conv.handoff_status == "waiting"


def test_two_misunderstood_messages_hand_off(sms, app):
    first = sms("what's the best pizza topping")
    assert "didn't understand" in first.text and "report a problem" in first.text
    second = sms("can you recommend a good movie")
    assert "staff member" in second.text
    with app.extensions["civicline"].Session() as s:
        assert s.scalars(select(Conversation)).one().handoff_status == "waiting"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("STOP", "unsubscribed"),
        ("START", "resubscribed"),
        ("HELP", "Reply STOP"),
        ("unsubscribe", "unsubscribed"),
    ],
)
def test_compliance_keywords(sms, app, word, expected):
    reply = sms(word)
    assert expected in reply.text
    with app.extensions["civicline"].Session() as s:
        turn = s.scalars(select(Turn)).one()
        assert turn.intent is None  # never classified
        assert s.scalar(select(func.count()).select_from(OptOut)) == (expected == "unsubscribed")
    assert cases(app) == []


def test_conversation_survives_an_app_restart(sms, settings, rasa_server):
    sms("graffiti all over the wall at 300 main st")
    restarted = create_app(
        replace(settings, rasa_url=rasa_server.url, rasa_token=rasa_server.token)
    )
    from tests.conftest import PUBLIC_URL
    from tests.integration.conftest import sign, sms_form

    form = sms_form("yes", "+15550100007", "SM" + "f" * 32)
    resp = restarted.test_client().post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)},
    )
    body = resp.get_data(as_text=True)
    assert CASE_RE.search(body), body


def test_every_turn_is_stored_for_review(sms, app):
    sms("hello")
    sms("pothole at 5 elm st, card 4111-1111-1111-1111")
    with app.extensions["civicline"].Session() as s:
        turns = s.scalars(select(Turn).order_by(Turn.id)).all()
    assert [t.intent for t in turns] == ["greet", "pothole"]
    assert all(t.confidence and t.reply and t.received_at for t in turns)
    assert "4111" not in turns[1].text
