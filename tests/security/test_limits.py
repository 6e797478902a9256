"""The line stays up: per-address limits on the public API and sign-in, a webhook pool that
serves nothing else, and the query string kept out of the access log and off the API key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import create_app
from cases.api_keys import create_api_key
from tests.fakes import FakeNLU

OTHER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def limited(settings):
    app = create_app(
        replace(
            settings,
            rate_limits=True,
            public_rate_limit="5/minute",
            login_rate_limit="3/minute",
            public_cache_seconds=30,
        ),
        nlu=FakeNLU(),
    )
    yield app
    app.extensions["civicline"].db.dispose()


def test_the_public_api_is_limited_per_address(limited):
    client = limited.test_client()
    codes = [client.get("/open311/v2/requests.json").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    resp = client.get("/open311/v2/requests.json")
    assert resp.get_json()[0]["code"] == 429 and "Retry-After" in resp.headers
    assert client.get("/open311/v2/requests.json", environ_base=OTHER).status_code == 200


def test_sign_in_attempts_are_limited_before_any_password_is_checked(limited, monkeypatch):
    import argon2

    checked = []
    real = argon2.PasswordHasher.verify
    monkeypatch.setattr(
        argon2.PasswordHasher, "verify", lambda self, *a: checked.append(1) or real(self, *a)
    )
    from tests.console_helpers import csrf

    client = limited.test_client()
    token = csrf(client, "/console/login")
    codes = [
        client.post(
            "/console/login", data={"username": "admin", "password": "x", "csrf_token": token}
        ).status_code
        for _ in range(6)
    ]
    assert codes[3:] == [429, 429, 429]
    assert len(checked) <= 3


def test_a_forged_forwarded_for_does_not_escape_the_limit(limited):
    client = limited.test_client()
    codes = [
        client.get(
            "/open311/v2/requests.json", headers={"X-Forwarded-For": f"203.0.113.{i}"}
        ).status_code
        for i in range(7)
    ]
    assert codes[-1] == 429


def test_public_lists_are_served_from_a_short_cache(limited):
    runtime = limited.extensions["civicline"]
    client = limited.test_client()
    first = client.get("/open311/v2/requests.json", environ_base=OTHER).get_json()
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="partner")
    form = {
        "api_key": key,
        "service_code": "PW-POTHOLE",
        "address_string": "14 Elm St",
        "attribute[size]": "large",
    }
    assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    again = client.get("/open311/v2/requests.json", environ_base=OTHER).get_json()
    assert first == again == []  # the same document until the cache interval passes


def test_an_api_key_in_the_url_is_refused(limited):
    runtime = limited.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="partner")
    resp = limited.test_client().post(
        f"/open311/v2/requests.json?api_key={key}",
        data={"service_code": "PW-POTHOLE", "address_string": "14 Elm St"},
    )
    assert resp.status_code == 400 and "form body" in resp.get_json()[0]["description"]


def test_the_webhook_pool_serves_only_twilio_and_health(settings):
    app = create_app(replace(settings, role="webhooks"), nlu=FakeNLU())
    client = app.test_client()
    assert client.get("/open311/v2/requests.json").status_code == 404
    assert client.get("/console/login").status_code == 404
    assert client.post("/twilio/sms").status_code == 403  # unsigned: refused, but routed
    web = create_app(replace(settings, role="web"), nlu=FakeNLU()).test_client()
    assert web.post("/twilio/sms").status_code == 404
    assert web.get("/open311/v2/services.json").status_code == 200


def test_the_access_log_leaves_out_query_strings():
    from pathlib import Path

    conf = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
    namespace: dict[str, object] = {}
    exec(conf.read_text(), namespace)
    assert "%(r)s" not in str(namespace["access_log_format"])
    assert "%(q)s" not in str(namespace["access_log_format"])


def test_the_access_log_leaves_out_case_page_tokens():
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
    namespace: dict[str, object] = {}
    exec(conf.read_text(), namespace)
    logger = namespace["AccessLogger"](Config())
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])

    def logged(path: str) -> str:
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.1"}
        atoms = logger.atoms(resp, {}, {**environ, "PATH_INFO": path}, timedelta(0))
        return atoms["U"]

    assert logged("/c/311-000123-k7Q2xR") == "/c/311-000123-***"
    assert logged("/c/static/page.css") == "/c/static/page.css"
    assert logged("/open311/v2/requests/311-000123.json") == "/open311/v2/requests/311-000123.json"


def test_the_media_worker_decodes_photos_at_a_lower_cpu_priority(settings, monkeypatch):
    """Anyone can text photos, and each can take seconds of CPU to decode (up to 50
    megapixels): like the public pool, the media worker only gets what residents' texts and
    Rasa leave over."""
    from outbound import media_worker

    niced: list[int] = []
    monkeypatch.setattr(media_worker.Settings, "from_env", classmethod(lambda cls: settings))
    monkeypatch.setattr(media_worker.os, "nice", niced.append)
    monkeypatch.setattr(media_worker, "run_until_stopped", lambda *a, **k: 0)
    monkeypatch.delenv("CIVICLINE_MEDIA_NICE", raising=False)
    assert media_worker.main() == 0
    assert niced == [10]
    niced.clear()
    monkeypatch.setenv("CIVICLINE_MEDIA_NICE", "0")
    media_worker.main()
    assert niced == []
