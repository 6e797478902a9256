"""Webhook signatures: auth-token rotation, Twilio's SharedKey (HMAC-SHA256) scheme, tampering."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from app import create_app
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.fakes import FakeNLU
from tests.integration.conftest import gunicorn, sms_form
from tests.rasa_standin import RasaStandIn

PREVIOUS = "previous-auth-token-fedcba9876543210"
SHARED = "webhooks-shared-key-secret-0123456789"
SHARED_PREVIOUS = "webhooks-shared-key-secret-previous-99"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
URL = PUBLIC_URL + "/twilio/sms"


@pytest.fixture
def make_client(settings):
    apps = []

    def _make(**overrides):
        app = create_app(replace(settings, **overrides), nlu=FakeNLU())
        app.config.update(TESTING=True)
        apps.append(app)
        return app.test_client()

    yield _make
    for app in apps:
        app.extensions["civicline"].db.dispose()


def form(sid: str = "SM" + "a" * 32) -> dict[str, str]:
    return sms_form("pothole on elm st", "+15550100007", sid)


def signed(secret: str, data: dict[str, str], algorithm: str | None = None, url: str = URL) -> str:
    return RequestValidator(secret).compute_signature(url, data, algorithm)


def post(client, data, signature, headers=None):
    headers = {"X-Twilio-Signature": signature, **(headers or {})}
    return client.post("/twilio/sms", data=data, headers=headers)


# -- auth token rotation ---------------------------------------------------------------------


def test_the_previous_token_is_accepted_during_rotation_and_logged(make_client, caplog):
    client = make_client(twilio_auth_token_previous=PREVIOUS)
    caplog.set_level(logging.INFO)
    data = form()
    assert post(client, data, signed(PREVIOUS, data)).status_code == 200
    assert "previous auth token" in caplog.text
    assert PREVIOUS not in caplog.text and AUTH_TOKEN not in caplog.text


def test_the_current_token_is_accepted_and_not_reported_as_previous(make_client, caplog):
    client = make_client(twilio_auth_token_previous=PREVIOUS)
    caplog.set_level(logging.INFO)
    data = form()
    assert post(client, data, signed(AUTH_TOKEN, data)).status_code == 200
    assert "previous auth token" not in caplog.text


def test_the_previous_token_is_refused_once_rotation_is_over(make_client):
    data = form()
    assert post(make_client(), data, signed(PREVIOUS, data)).status_code == 403


def test_another_token_is_refused_even_during_rotation(make_client):
    client = make_client(twilio_auth_token_previous=PREVIOUS)
    data = form()
    assert post(client, data, signed("guessed-token-000", data)).status_code == 403
    assert post(client, data, "").status_code == 403


def test_no_auth_token_refuses_everything_even_with_a_previous_one(make_client):
    client = make_client(twilio_auth_token=None, twilio_auth_token_previous=PREVIOUS)
    data = form()
    assert post(client, data, signed(PREVIOUS, data)).status_code == 403


# -- SharedKey signatures (X-Twilio-Webhooks-Signature-Settings) -----------------------------


@pytest.mark.parametrize("secret", [SHARED, SHARED_PREVIOUS])
@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
def test_a_shared_key_signature_is_accepted(make_client, secret, algorithm):
    client = make_client(
        twilio_webhook_shared_key=SHARED, twilio_webhook_shared_key_previous=SHARED_PREVIOUS
    )
    data = form()
    header = {SETTINGS_HEADER: f"key=webhooks_sharedkey_01,algorithm={algorithm}"}
    assert post(client, data, signed(secret, data, algorithm), header).status_code == 200


@pytest.mark.parametrize(
    ("secret", "algorithm", "settings_header"),
    [
        (AUTH_TOKEN, "HMAC_SHA256", "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256"),
        (SHARED, "HMAC_SHA256", "key=webhooks_sharedkey_01,algorithm=HMAC_SHA1"),
        (SHARED, "HMAC_SHA256", None),  # settings header stripped: the auth token check fails
        (SHARED, "HMAC_SHA256", "key=webhooks_sharedkey_01,algorithm=HMAC_SHA512"),
        (SHARED, "HMAC_SHA256", "key=webhooks_sharedkey_01,algorithm=none"),
    ],
)
def test_a_shared_key_signature_that_does_not_fit_is_refused(
    make_client, secret, algorithm, settings_header
):
    client = make_client(twilio_webhook_shared_key=SHARED)
    data = form()
    header = {SETTINGS_HEADER: settings_header} if settings_header else {}
    assert post(client, data, signed(secret, data, algorithm), header).status_code == 403


def test_a_shared_key_request_without_a_configured_key_is_refused(make_client, caplog):
    data = form()
    header = {SETTINGS_HEADER: "key=webhooks_sharedkey_01,algorithm=HMAC_SHA1"}
    caplog.set_level(logging.WARNING)
    assert post(make_client(), data, signed(AUTH_TOKEN, data), header).status_code == 403
    assert "TWILIO_WEBHOOK_SHARED_KEY" in caplog.text


# -- tampering -------------------------------------------------------------------------------


def test_an_appended_duplicate_parameter_is_refused(make_client):
    client = make_client()
    data = form()
    body = urlencode(data) + "&Body=STOP"
    resp = client.post(
        "/twilio/sms",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signed(AUTH_TOKEN, data)},
    )
    assert resp.status_code == 403


def test_a_json_body_must_match_its_signed_hash(make_client):
    client = make_client()
    raw = json.dumps({"From": "+15550100007", "Body": "hi"})
    digest = hashlib.sha256(raw.encode()).hexdigest()
    url = f"{URL}?bodySHA256={digest}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
    headers = {"X-Twilio-Signature": signature}
    tampered = raw.replace("hi", "STOP")
    path = f"/twilio/sms?bodySHA256={digest}"
    resp = client.post(path, data=tampered, content_type="application/json", headers=headers)
    assert resp.status_code == 403
    resp = client.post(path, data=raw, content_type="application/json", headers=headers)
    assert resp.status_code != 403  # signed and intact (the SMS webhook then wants form fields)


# -- through real gunicorn -------------------------------------------------------------------


def test_gunicorn_accepts_either_token_during_rotation(database_url, monkeypatch):
    rasa = RasaStandIn()
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_PREVIOUS", PREVIOUS)
    try:
        with gunicorn(database_url, rasa, AUTH_TOKEN) as base:
            url = base + "/twilio/sms"
            for n, (token, expected) in enumerate(
                [(AUTH_TOKEN, 200), (PREVIOUS, 200), ("guessed-token-000", 403)]
            ):
                data = form(f"SM{n:032x}")
                resp = requests.post(
                    url,
                    data=data,
                    headers={"X-Twilio-Signature": signed(token, data, url=url)},
                    timeout=30,
                )
                assert resp.status_code == expected, token
    finally:
        rasa.close()
