"""Operations: /healthz tells ok/degraded/unavailable and nothing internal to the public."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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


def test_spanish_servers_down_is_degraded_and_english_down_is_unavailable(settings):
    from tests.rasa_standin import RasaStandIn

    up, dead = RasaStandIn(), f"http://127.0.0.1:{free_port()}"
    try:
        for english, spanish, code, status in (
            (up.url, dead, 200, "degraded"),
            (dead, up.url, 503, "unavailable"),
            (up.url, up.url, 200, "ok"),
        ):
            app = create_app(
                replace(
                    settings,
                    rasa_url=english,
                    rasa_language_urls={"es": spanish},
                    rasa_token=up.token,
                    nlu_timeout=0.5,
                )
            )
            resp = app.test_client().get("/healthz")
            checks = {"database": "ok", "rasa": [], "rasa_es": []}
            checks["rasa"] = ["ok" if english == up.url else "down"]
            checks["rasa_es"] = ["ok" if spanish == up.url else "down"]
            assert resp.status_code == code
            assert resp.get_json() == {"status": status, "checks": checks}
            app.extensions["civicline"].db.dispose()
    finally:
        up.close()


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


def test_make_run_restarts_a_crashed_rasa_replica(rasa_model, database_url, tmp_path):
    from nlu.server import RasaServer
    from scripts.run import respawn
    from scripts.supervise import Child, check
    from settings import Settings

    server = RasaServer(rasa_model, log_path=tmp_path / "rasa.log").start()
    try:
        settings = Settings.from_env({}, database_url=database_url)
        child = Child("Rasa replica", respawn(server, settings, rasa_model), proc=server.proc)
        server.proc.kill()  # the replica crashes
        server.proc.wait()
        said: list[str] = []
        assert check([child], said.append) == 1
        assert "exited" in said[0] and child.proc is server.proc and server.proc.poll() is None
        server.wait_ready(240)
        assert server.client().parse("there is a pothole on elm street").intent == "pothole"
    finally:
        server.stop()


def test_a_process_that_keeps_dying_is_restarted_with_a_growing_pause():
    import subprocess
    import sys

    from scripts.supervise import Child, check

    child = Child("flaky", lambda: subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]))
    child.launch()
    child.proc.wait()
    said: list[str] = []
    assert check([child], said.append, now=0.0) == 1  # first death: at once
    child.proc.wait()
    assert check([child], said.append, now=1.0) == 0  # second death: waits
    assert "restarting in 4 s" in said[-1]
    assert check([child], said.append, now=5.5) == 1
    assert child.restarts == 2


def test_make_run_starts_the_daily_jobs_only_where_they_are_configured(tmp_path, capsys):
    from scripts.run import daily_workers
    from settings import Settings

    assert daily_workers(Settings.from_env({})) == []  # they would exit and be restarted forever
    configured = Settings.from_env(
        {
            "CIVICLINE_OPEN_DATA_PATH": str(tmp_path / "requests.csv"),
            "CIVICLINE_SMTP_URL": "smtp://mail.riverton.example:25",
            "CIVICLINE_DIGEST_TO": "ops@riverton.example",
        }
    )
    assert [c.name for c in daily_workers(configured)] == ["open data worker", "digest worker"]
    assert "not e-mailed" in capsys.readouterr().out


def test_make_run_and_production_share_the_procfile_workers(tmp_path):
    import importlib.util

    from scripts.run import procfile_modules

    modules = procfile_modules()
    assert {"outbox", "later", "retention", "media", "reconcile", "opendata", "digest"} <= set(
        modules
    )
    for module in modules.values():  # each line starts a module that exists and runs as main
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin, module
        assert '__name__ == "__main__"' in Path(spec.origin).read_text(), module
    other = tmp_path / "Procfile"
    other.write_text("# a comment: python -m nope\nweb: gunicorn app\nx: python -m some.worker\n")
    assert procfile_modules(other) == {"x": "some.worker"}
