"""Browser fixtures: the app on a real HTTP port, the outbox worker, Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from app import create_app
from nlu.server import free_port
from settings import ROOT
from tests.console_helpers import add_staff

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "reports" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live(settings, rasa_server, standin, tmp_path):
    """The whole app on a loopback port (real HTTP), with staff accounts and an outbox worker.

    It edits and trains on a copy of data/ (3 DIET epochs), never the checkout's files.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shutil.copytree(ROOT / "data", tmp_path / "data")
    app_settings = replace(
        settings,
        public_url=base,
        rasa_url=rasa_server.url,
        rasa_token=rasa_server.token,
        secret_key="e2e-secret",
        sms_from="+15550100311",
        twilio_api_url=standin.url,
        data_dir=tmp_path / "data",
        model_dir=tmp_path / "models",
        train_epochs=3,
    )
    app = create_app(app_settings)
    add_staff(app.extensions["civicline"])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        TWILIO_ACCOUNT_SID=settings.twilio_account_sid or "",
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token or "",
        CIVICLINE_SMS_FROM="+15550100311",
        CIVICLINE_TWILIO_API_URL=standin.url,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "outbound.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield base, app, app_settings
    worker.terminate()
    worker.wait(10)
    server.shutdown()
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def page():
    """A fresh headless Chromium page (Debian's chromium, no Playwright browser download)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        refused: list[str] = []  # what the Content-Security-Policy blocked, if anything
        page.on(
            "console",
            lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        yield page
        context.close()
        browser.close()
    assert refused == [], "the page broke its own Content-Security-Policy"
