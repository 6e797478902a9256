"""Integration fixtures: one real Rasa server per test session, apps wired to it, signed posts."""

from __future__ import annotations

import itertools
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest
from twilio.request_validator import RequestValidator

from app import create_app
from tests.conftest import AUTH_TOKEN, PUBLIC_URL

_sids = itertools.count(1)


@pytest.fixture
def app(settings, rasa_server):
    """The Flask app on a fresh database, talking to the session's Rasa server."""
    app = create_app(replace(settings, rasa_url=rasa_server.url, rasa_token=rasa_server.token))
    app.config.update(TESTING=True)
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    return RequestValidator(token).compute_signature(url, form)


@dataclass
class SmsReply:
    """A webhook answer: status, the raw TwiML and the message texts in it."""

    status: int
    xml: str
    messages: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.messages)


def sms_form(body: str, sender: str, sid: str | None = None) -> dict[str, str]:
    """Realistic Twilio inbound-SMS form fields."""
    return {
        "ToCountry": "US",
        "ToState": "MA",
        "SmsMessageSid": sid or "",
        "NumMedia": "0",
        "ToCity": "RIVERTON",
        "FromZip": "01101",
        "SmsSid": sid or "",
        "FromState": "MA",
        "SmsStatus": "received",
        "FromCity": "RIVERTON",
        "Body": body,
        "FromCountry": "US",
        "To": "+15550100311",
        "ToZip": "01101",
        "NumSegments": "1",
        "MessageSid": sid or "",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


@pytest.fixture
def sms_post(client):
    """Post a whole signed SMS form (for fields the `sms` fixture does not set)."""

    def _post(form: dict[str, str]):
        headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)}
        return client.post("/twilio/sms", data=form, headers=headers)

    return _post


@pytest.fixture
def sms(client) -> Callable[..., SmsReply]:
    """Post a signed inbound SMS to /twilio/sms and parse the TwiML reply."""

    def _sms(body: str, sender: str = "+15550100007", sid: str | None = None) -> SmsReply:
        form = sms_form(body, sender, sid or f"SM{next(_sids):032x}")
        headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)}
        resp = client.post("/twilio/sms", data=form, headers=headers)
        text = resp.get_data(as_text=True)
        messages = []
        if resp.status_code == 200:
            messages = [m.text or "" for m in ET.fromstring(text).iter("Message")]
        return SmsReply(resp.status_code, text, messages)

    return _sms


@contextmanager
def gunicorn(
    database_url: str,
    rasa_server,
    token: str,
    *,
    need_nlu: bool = True,
    rasa_server_es=None,
    env_extra: dict[str, str] | None = None,
) -> Iterator[str]:
    """gunicorn (2 workers) on a free port with this database and Rasa; yields its base URL.

    With `rasa_server_es`, Spanish goes to that server (else to the English one, as configured);
    `env_extra` adds settings (e.g. CIVICLINE_TEXT_HOURS).
    """
    from nlu.server import free_port
    from scripts.web import start_gunicorn, stop, wait_healthy

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        CIVICLINE_PORT=str(port),
        CIVICLINE_WORKERS="2",
        CIVICLINE_RASA_URL=rasa_server.url,
        CIVICLINE_RASA_TOKEN=rasa_server.token,
        TWILIO_AUTH_TOKEN=token,
        CIVICLINE_PUBLIC_URL=base,
    )
    env.pop("CIVICLINE_RASA_URL_ES", None)
    if rasa_server_es is not None:
        env["CIVICLINE_RASA_URL_ES"] = rasa_server_es.url
    env.update(env_extra or {})
    proc = start_gunicorn(env, quiet=True)
    try:
        if not wait_healthy(base, proc, need_nlu=need_nlu):
            pytest.fail("gunicorn did not become healthy")
        yield base
    finally:
        stop(proc)
