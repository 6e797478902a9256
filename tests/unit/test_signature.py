"""Twilio signature checks against the public URL, and case number parsing."""

from __future__ import annotations

import flask
import pytest
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from cases.service import find_case_number, format_case_number
from webhooks.signature import public_url, signature_ok

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "https://311.riverton.example.gov"
FORM = {"From": "+15550100001", "Body": "pothole on elm st", "MessageSid": "SM" + "1" * 32}
app = flask.Flask(__name__)


def _request(path="/sms", *, form=FORM, headers=None, proxies=0):
    """A request to the app server behind the proxy, through ProxyFix trusting `proxies` hops."""
    builder = EnvironBuilder(
        path=path,
        method="POST",
        base_url="http://10.0.0.5:8000",  # the app server behind the proxy
        data=form,
        headers=headers or {},
    )
    seen: dict = {}

    def capture(environ, start_response):
        seen.update(environ)
        return []

    ProxyFix(capture, x_for=proxies, x_proto=proxies)(builder.get_environ(), lambda *a: None)
    return app.request_context(seen)


def _signed(url=BASE + "/sms", form=FORM, token=TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


@pytest.mark.parametrize(
    ("path", "base", "headers", "proxies", "url"),
    [
        ("/sms", BASE, {}, 0, f"{BASE}/sms"),
        ("/sms", BASE + "/", {}, 0, f"{BASE}/sms"),
        ("/sms?lang=es&x=1", BASE, {}, 0, f"{BASE}/sms?lang=es&x=1"),
        ("/voice", "https://example.gov/civicline/", {}, 0, "https://example.gov/civicline/voice"),
        (
            "/sms",
            "http://311.example.gov",
            {"X-Forwarded-Proto": "https"},
            1,
            "https://311.example.gov/sms",
        ),
        (
            "/sms",
            "http://311.example.gov",
            {"X-Forwarded-Proto": "https, http"},
            2,
            "https://311.example.gov/sms",
        ),
        # no trusted proxy: a client's own header is not believed
        (
            "/sms",
            "http://311.example.gov",
            {"X-Forwarded-Proto": "https"},
            0,
            "http://311.example.gov/sms",
        ),
        # a trusted proxy that says nothing: the configured scheme
        ("/sms", BASE, {}, 1, f"{BASE}/sms"),
        # the host is always the configured one
        ("/sms", BASE, {"X-Forwarded-Host": "evil.example"}, 1, f"{BASE}/sms"),
    ],
)
def test_public_url(path, base, headers, proxies, url):
    with _request(path, headers=headers, proxies=proxies):
        assert flask.request.host == "10.0.0.5:8000"
        assert public_url(flask.request, base) == url


def test_valid_signature():
    with _request(headers=_signed()):
        assert signature_ok(flask.request, TOKEN, BASE)


def test_valid_signature_with_query_string():
    url = BASE + "/sms?lang=es"
    with _request("/sms?lang=es", headers=_signed(url)):
        assert signature_ok(flask.request, TOKEN, BASE)


def test_signature_for_the_internal_url_is_rejected():
    with _request(headers=_signed("http://10.0.0.5:8000/sms")):
        assert not signature_ok(flask.request, TOKEN, BASE)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        _signed(token="some-other-token"),
        _signed(url=BASE + "/voice"),
        _signed(form={**FORM, "Body": "something else"}),
    ],
)
def test_bad_or_missing_signature_is_rejected(headers):
    with _request(headers=headers):
        assert not signature_ok(flask.request, TOKEN, BASE)


def test_tampered_form_is_rejected():
    with _request(form={**FORM, "Body": "STOP"}, headers=_signed()):
        assert not signature_ok(flask.request, TOKEN, BASE)


def test_empty_auth_token_rejects_everything():
    with _request(headers=_signed(token="")):
        assert not signature_ok(flask.request, "", BASE)


@pytest.mark.parametrize(
    ("case_id", "number"), [(1, "311-000001"), (123, "311-000123"), (1234567, "311-1234567")]
)
def test_format_case_number_round_trips(case_id, number):
    assert format_case_number(case_id) == number
    assert find_case_number(f"status of {number}?") == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("311-000123", "311-000123"),
        ("my case is 311 000123", "311-000123"),
        ("case #311000123 please", "311-000123"),
        ("311.000123", "311-000123"),
        ("311 – 000123", "311-000123"),
        ("311-00012", None),
        ("call 555-010-0311", None),
        ("x311-000123", None),
        ("no number here", None),
    ],
)
def test_find_case_number(text, number):
    assert find_case_number(text) == number
