"""Operations: /healthz tells ok/degraded/unavailable and nothing internal to the public."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import create_app
from nlu.server import free_port

pytestmark = pytest.mark.rasa
PUBLIC = {"REMOTE_ADDR": "203.0.113.9"}


def test_one_replica_down_is_degraded_not_ok(settings, rasa_server):
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_app(
        replace(
            settings,
            rasa_url=f"{rasa_server.url},{dead}",
            rasa_token=rasa_server.token,
            nlu_timeout=0.5,
        )
    )
    client = app.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "rasa": ["ok", "down"]},
    }
    public = client.get("/healthz", environ_base=PUBLIC)
    assert public.status_code == 200 and public.get_json() == {"status": "degraded"}


def test_the_public_sees_one_word_when_everything_is_down(settings):
    app = create_app(
        replace(
            settings,
            rasa_url=f"http://127.0.0.1:{free_port()}",
            rasa_token="s3cret-rasa-token",
            nlu_timeout=0.5,
        )
    )
    resp = app.test_client().get("/healthz", environ_base=PUBLIC)
    assert resp.status_code == 503 and resp.get_json() == {"status": "unavailable"}
