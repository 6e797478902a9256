"""Signature checks, retries, health and NLU outages at the HTTP boundary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.models import Case, Turn
from nlu.server import free_port
from tests.conftest import PUBLIC_URL
from tests.integration.conftest import sign, sms_form

pytestmark = pytest.mark.rasa


def test_missing_signature_is_rejected(client):
    resp = client.post("/twilio/sms", data=sms_form("hi", "+15550100001", "SM1"))
    assert resp.status_code == 403


def test_wrong_signature_is_rejected(client):
    form = sms_form("hi", "+15550100001", "SM1")
    bad = sign(PUBLIC_URL + "/twilio/sms", form, token="not-the-token")
    assert (
        client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": bad}).status_code
        == 403
    )


def test_signature_over_tampered_body_is_rejected(client):
    form = sms_form("hi", "+15550100001", "SM1")
    signature = sign(PUBLIC_URL + "/twilio/sms", form)
    form["Body"] = "STOP"
    assert (
        client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}).status_code
        == 403
    )


def test_forwarded_proto_is_honoured_from_a_trusted_proxy(settings, rasa_server):
    app = create_app(
        replace(
            settings,
            public_url="http://311.riverton.example.gov",
            trusted_proxies=1,
            rasa_url=rasa_server.url,
            rasa_token=rasa_server.token,
        )
    )
    form = sms_form("hello", "+15550100002", "SM" + "a" * 32)
    signature = sign("https://311.riverton.example.gov/twilio/sms", form)
    resp = app.test_client().post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"},
    )
    assert resp.status_code == 200 and "<Message>" in resp.get_data(as_text=True)


def test_missing_fields_are_a_bad_request(client):
    form = {"Body": "hi"}
    resp = client.post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)},
    )
    assert resp.status_code == 400


def test_retried_message_sid_replays_and_never_files_twice(sms, app):
    sms("abandoned car with no plates and flat tires at 77 river rd for 3 weeks")
    first = sms("yes", sid="SMretry" + "0" * 27)
    second = sms("yes", sid="SMretry" + "0" * 27)
    assert first.xml == second.xml and "311-" in first.text
    with app.extensions["civicline"].Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(Turn)) == 2


def test_healthz_is_ready_with_database_and_rasa(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok", "rasa": ["ok"]}}


def test_healthz_reports_rasa_down(settings):
    app = create_app(replace(settings, rasa_url=f"http://127.0.0.1:{free_port()}", nlu_timeout=0.5))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["status"] == "unavailable"
    assert resp.get_json()["checks"]["rasa"] == ["down"]


def test_healthz_never_shows_the_rasa_token_or_internal_errors(settings):
    port = free_port()
    app = create_app(
        replace(
            settings,
            rasa_url=f"http://127.0.0.1:{port}",
            rasa_token="s3cret-rasa-token",
            nlu_timeout=0.5,
        )
    )
    body = app.test_client().get("/healthz").get_data(as_text=True)
    assert "s3cret-rasa-token" not in body and "token=" not in body
    assert str(port) not in body and "Connection" not in body


@pytest.mark.parametrize(("body", "media"), [("", "1"), ("", "0"), ("   ", "0")])
def test_a_photo_only_or_blank_text_gets_a_reply_not_an_error(sms_post, app, body, media):
    form = sms_form(body, "+15550100004", "SM" + "c" * 32)
    form["NumMedia"] = media
    if media == "1":
        form["MediaUrl0"] = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
        form["MediaContentType0"] = "image/jpeg"
    resp = sms_post(form)
    assert resp.status_code == 200
    reply = " ".join(
        m.text or "" for m in ET.fromstring(resp.get_data(as_text=True)).iter("Message")
    )
    assert "911" in reply
    # a photo alone starts a report (bot/photos.py); blanks are asked for words
    assert ("What problem does it show" if media == "1" else "words") in reply
    with app.extensions["civicline"].Session() as s:
        assert s.scalars(select(Turn)).one().reply == reply  # stored like any other message


def test_rasa_down_still_answers_and_stores_the_message(settings):
    app = create_app(replace(settings, rasa_url=f"http://127.0.0.1:{free_port()}", nlu_timeout=0.5))
    form = sms_form("the sidewalk on my block is cracked", "+15550100003", "SM" + "b" * 32)
    resp = app.test_client().post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)},
    )
    assert resp.status_code == 200 and "will text you an answer" in resp.get_data(as_text=True)
    with app.extensions["civicline"].Session() as s:
        turn = s.scalars(select(Turn)).one()
    assert turn.text == "the sidewalk on my block is cracked" and turn.nlu_error
