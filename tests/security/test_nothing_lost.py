"""Nothing lost: a failing webhook still answers TwiML and keeps the message; messages saved
while the NLU was down are answered by text once it is back, exactly once; handoffs stay open.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from app import create_app
from bot.later import answer_due, answer_one
from cases.models import Conversation, DeferredMessage, OutboundMessage, Turn, utcnow
from cases.users import create_user
from nlu.server import free_port
from tests.conftest import AUTH_TOKEN
from tests.integration.conftest import gunicorn, sign, sms_form

pytestmark = pytest.mark.rasa


class BrokenNLU:
    """An NLU client with a bug in it: raises something no one expected."""

    def parse(self, text: str, language: str = "en"):
        raise KeyError("intent_ranking")


def post_sms(client, body: str, sender: str, sid: str):
    form = sms_form(body, sender, sid)
    from tests.conftest import PUBLIC_URL

    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)}
    return client.post("/twilio/sms", data=form, headers=headers)


def test_an_unexpected_error_answers_twiml_and_keeps_the_message(settings):
    app = create_app(settings, nlu=BrokenNLU())
    resp = post_sms(app.test_client(), "pothole at 120 Elm St", "+15550108001", "SM" + "e" * 32)
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    [message] = [m.text for m in ET.fromstring(resp.get_data(as_text=True)).iter("Message")]
    assert "saved your message" in message and "(555) 010-0311" in message
    with app.extensions["civicline"].Session() as s:
        [kept] = s.scalars(select(DeferredMessage)).all()
    assert (kept.text, kept.reason, kept.status) == ("pothole at 120 Elm St", "error", "pending")
    app.extensions["civicline"].db.dispose()


def test_the_apology_is_in_the_language_the_resident_wrote_in(settings):
    app = create_app(settings, nlu=BrokenNLU())
    body = "hay un bache enorme en la calle Elm enfrente del 120"
    resp = post_sms(app.test_client(), body, "+15550108003", "SM" + "f" * 32)
    [message] = [m.text for m in ET.fromstring(resp.get_data(as_text=True)).iter("Message")]
    spanish = app.extensions["civicline"].bot.wording.catalogues["es"].text("WEBHOOK_ERROR", "sms")
    assert message.startswith(spanish.split("{")[0].strip())
    app.extensions["civicline"].db.dispose()


def test_a_failing_call_turn_says_sorry_in_twiml(settings):
    app = create_app(settings, nlu=BrokenNLU())
    from tests.conftest import PUBLIC_URL

    form = {"CallSid": "CA" + "e" * 32, "From": "+15550108002", "SpeechResult": "pothole"}
    resp = app.test_client().post(
        "/twilio/voice/gather?t=1",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/voice/gather?t=1", form)},
    )
    root = ET.fromstring(resp.get_data(as_text=True))
    assert resp.status_code == 200 and root.find("Say") is not None
    assert root.find("Hangup") is not None
    app.extensions["civicline"].db.dispose()


def test_messages_saved_while_rasa_was_down_are_answered_once_when_it_is_back(
    database_url, rasa_server
):
    dead = f"http://127.0.0.1:{free_port()}"
    with gunicorn(
        database_url, SimpleNamespace(url=dead, token=""), AUTH_TOKEN, need_nlu=False
    ) as base:
        url = base + "/twilio/sms"
        for i, body in enumerate(["when is trash pickup on elm street", "hello"]):
            form = sms_form(body, f"+1555010810{i}", f"SM{i:032x}")
            signed = {"X-Twilio-Signature": sign(url, form)}
            resp = requests.post(url, data=form, headers=signed)
            assert resp.status_code == 200 and "saved yours" in resp.text
            # Twilio retries the same message: kept once
            assert requests.post(url, data=form, headers=signed).status_code == 200
    settings_up = replace(
        _settings(database_url), rasa_url=rasa_server.url, rasa_token=rasa_server.token
    )
    runtimes = [create_app(settings_up).extensions["civicline"] for _ in range(2)]
    with runtimes[0].Session() as s:
        assert s.scalar(select(DeferredMessage.id).limit(1)) is not None
        assert len(s.scalars(select(DeferredMessage)).all()) == 2
    # two workers race for the same two messages
    threads = [
        threading.Thread(
            target=answer_due,
            kwargs={"engine": rt.bot, "sessions": rt.Session, "nlu_ready": lambda: True},
        )
        for rt in runtimes
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with runtimes[0].Session() as s:
        texts = s.scalars(select(OutboundMessage).order_by(OutboundMessage.to)).all()
        rows = s.scalars(select(DeferredMessage)).all()
    assert [m.to for m in texts] == ["+15550108100", "+15550108101"]
    assert "trash" in texts[0].body.lower() and "Sorry for the wait" in texts[0].body
    assert {r.status for r in rows} == {"done"}
    for rt in runtimes:
        rt.db.dispose()


def _settings(database_url):
    from settings import Settings

    return Settings.from_env({}, database_url=database_url, twilio_auth_token=AUTH_TOKEN)


def test_a_worker_that_stopped_after_answering_still_texts_once(database_url, rasa_server):
    settings = replace(
        _settings(database_url), rasa_url=rasa_server.url, rasa_token=rasa_server.token
    )
    rt = create_app(settings).extensions["civicline"]
    with rt.Session() as s, s.begin():
        s.add(
            DeferredMessage(
                channel="sms",
                sender="+15550108200",
                message_id="SM" + "1" * 32,
                text="hello",
                reason="nlu_down",
                status="pending",
            )
        )
    # The first worker handled the turn, then died before queuing the text: lease ran out.
    from cases import deferred

    with rt.Session() as s, s.begin():
        assert deferred.claim_next(db_session=s, now=utcnow()) is not None
    from bot.dialogue import Turn as BotTurn

    with rt.Session() as s:
        rt.bot.handle(
            BotTurn(
                channel="sms",
                sender="+15550108200",
                text="hello",
                message_id="SM" + "1" * 32 + ":later",
            ),
            db_session=s,
        )
    later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731
    assert answer_one(engine=rt.bot, sessions=rt.Session, clock=later)
    assert not answer_one(engine=rt.bot, sessions=rt.Session, clock=later)
    with rt.Session() as s:
        assert len(s.scalars(select(OutboundMessage)).all()) == 1
        assert len(s.scalars(select(Turn).where(Turn.message_id.like("%:later"))).all()) == 1
    rt.db.dispose()


def test_a_handoff_never_times_out_and_staff_replies_count(app, sms):
    from cases import handoffs

    runtime = app.extensions["civicline"]
    sender = "+15550108300"
    sms("I want to talk to a person", sender=sender)
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation)).one()
        assert conv.handoff_status == "waiting"
    start = utcnow()
    runtime.bot.clock = lambda: start + timedelta(hours=3)
    reply = sms("hello? anyone there?", sender=sender)
    assert "staff member" in reply.text or "person" in reply.text.lower()
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="sam", password="x" * 12, role="supervisor")
        conv = s.scalars(select(Conversation)).one()
        handoffs.reply(
            db_session=s,
            conversation=conv,
            user=staff,
            text="Hi, Sam here.",
            now=start + timedelta(hours=5),
        )
    runtime.bot.clock = lambda: start + timedelta(hours=5, minutes=20)
    assert sms("thanks Sam, the heat is off at 14 Ash St", sender=sender).messages == []
    with runtime.Session() as s:
        [conv] = s.scalars(select(Conversation)).all()
        assert conv.status == "active" and conv.handoff_status == "taken"
        assert len(conv.turns) == 3
