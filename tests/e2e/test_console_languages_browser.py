"""The conversations page's language filter in real headless Chromium (fake NLU, real HTTP)."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from app import create_app
from nlu.server import free_port
from tests.console_helpers import add_staff, text
from tests.e2e.conftest import SHOTS
from tests.e2e.test_console_browser import sign_in
from tests.fakes import FakeNLU

pytestmark = pytest.mark.browser


@pytest.fixture
def served(settings):
    """The app on a loopback port with a Spanish and an English conversation (no Rasa needed)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(replace(settings, public_url=base, secret_key="e2e-secret"), nlu=FakeNLU())
    runtime = app.extensions["civicline"]
    add_staff(runtime)
    text(runtime, "hay un bache enorme en la calle Elm", sender="+15550100711")
    text(runtime, "pothole at 5 elm st", sender="+15550100712")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    runtime.db.dispose()


def test_filtering_conversations_by_language(served, page):
    sign_in(page, served, "sam")
    page.click("text=Conversations")
    rows = page.locator("#conversations tbody tr")
    assert rows.count() == 2
    page.select_option("select[name=language]", "es")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"language=es"))
    assert rows.count() == 1 and "hay un bache" in rows.first.inner_text()
    assert rows.first.locator(".badge.lang").get_attribute("title") == "Spanish (Español)"
    assert page.locator("select[name=language]").input_value() == "es"  # the filter persists
    page.screenshot(path=str(SHOTS / "conversations-spanish.png"), full_page=True)
