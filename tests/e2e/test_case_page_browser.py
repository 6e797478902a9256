"""The public case page on a phone-sized Chromium with JavaScript off, and the console case page
that links to it (fake NLU, real HTTP, one server for the module)."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from cases.admin_models import User
from cases.lifecycle import Change, update_case
from cases.migrate import upgrade
from cases.models import Case
from cases.public import case_link
from cases.service import create_case
from nlu.server import free_port
from settings import Settings
from tests.conftest import AUTH_TOKEN
from tests.console_helpers import add_staff
from tests.e2e.conftest import ARGS, CHROMIUM, SHOTS
from tests.e2e.test_console_browser import sign_in
from tests.fakes import FakeNLU

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}


def _file(s, address: str, code: str, phone: str, language: str = "en") -> Case:
    return create_case(
        db_session=s,
        service_code=code,
        service_name="Pothole" if code == "PW-POTHOLE" else "Noise Complaint",
        agency_responsible="Department of Public Works"
        if code == "PW-POTHOLE"
        else "Police Department",
        description="call me at 555-867-5309, I'm Ana Ruiz",
        source="sms",
        address=address,
        contact_phone=phone,
        contact_name="Ana Ruiz",
        expected_days=5,
        language=language,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on a loopback port: a pothole worked on (two more residents reported it) and a
    Spanish noise complaint, both with history."""
    tmp = tmp_path_factory.mktemp("case-page")
    url = f"sqlite:///{tmp / 'civicline.db'}"
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings.from_env(
        {},
        database_url=url,
        twilio_auth_token=AUTH_TOKEN,
        public_url=base,
        secret_key="e2e-secret",
        rate_limits=False,
        public_cache_seconds=0,
    )
    app = create_app(settings, nlu=FakeNLU())
    rt = app.extensions["civicline"]
    add_staff(rt)
    with rt.Session() as s, s.begin():
        pothole = _file(s, "120 Elm Street", "PW-POTHOLE", "+15550100801")
        for i in range(2):
            _file(s, "120 Elm Street", "PW-POTHOLE", f"+1555010081{i}")
        noise = _file(s, "148 Maple Ave Apt 3", "PD-NOISE", "+15550100820", language="es")
        staff = s.query(User).filter_by(username="ada").one()

        def change(case: Case, status: str, **fields: str) -> None:
            update_case(
                db_session=s,
                case=case,
                change=Change(status, **fields),
                actor=staff,
                wording=rt.bot.wording,
                policy=rt.catalog.policy,
            )

        change(pothole, "assigned", assigned_to="DPW Crew 4")
        change(pothole, "in_progress", public_note="The crew is on site and has marked the hole.")
        change(noise, "assigned", assigned_to="Patrol Unit 7", notes="Tenant Ana Ruiz, 4B")
        change(noise, "closed", resolution="fixed", public_note="Un agente habló con los vecinos.")
        links = {
            "pothole": case_link(base, pothole),
            "noise": case_link(base, noise),
            "number": pothole.service_request_id,
        }
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base, links
    server.shutdown()
    rt.db.dispose()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (Debian's chromium, no Playwright download)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _open(browser, **context):
    """A new page in its own context that records what the Content-Security-Policy refused."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return ctx, page, refused


def test_the_case_page_on_a_phone_without_javascript(served, browser):
    _, links = served
    ctx, page, refused = _open(
        browser, viewport=PHONE, java_script_enabled=False, is_mobile=True, has_touch=True
    )
    try:
        response = page.goto(links["pothole"])
        assert response.status == 200
        assert response.headers["cache-control"] == "no-store"
        assert page.locator("h1").inner_text() == f"Riverton 311: case {links['number']}"
        assert page.locator("#status strong").inner_text() == "In progress"
        entries = page.locator("ol.timeline li")
        assert entries.count() == 3
        assert entries.nth(1).locator("strong").inner_text() == "Assigned to DPW Crew 4"
        assert "The crew is on site" in entries.nth(2).inner_text()
        assert entries.nth(2).is_visible()
        assert page.locator("#others").inner_text() == (
            "2 other residents reported the same problem."
        )
        # one column that fits the phone: nothing wider than the screen, text not shrunk
        for selector in ("header", "main", "section.summary", "#history", "#views"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, selector
        body = page.content()
        assert "Ana Ruiz" not in body and "867-5309" not in body
        page.screenshot(path=str(SHOTS / "case-page-phone.png"), full_page=True)

        response = page.goto(links["noise"])
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.locator("#status strong").inner_text() == "Cerrado (resuelto)"
        assert page.locator("#place").inner_text() == "100 block of Maple Ave"
        assert page.locator("ol.timeline li").count() == 3
        page.screenshot(path=str(SHOTS / "case-page-phone-es.png"), full_page=True)
        page.click("nav.languages a[hreflang=en]")  # a plain link: works without script
        assert page.locator("#status strong").inner_text() == "Closed (fixed)"
        assert "?lang=en" in page.url
    finally:
        ctx.close()
    assert refused == [], "the page broke its own Content-Security-Policy"


def test_console_case_page_links_to_the_public_page_and_counts_the_view(served, browser):
    base, links = served
    ctx, page, refused = _open(browser, viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, base, "sam")
        page.goto(f"{base}/console/cases/{links['number']}")
        options = page.locator("select[name=status] option")
        assert options.all_inner_texts() == [
            "received",
            "assigned",
            "in progress",
            "reopened",
            "closed",
        ]
        assert page.locator("input[name=assigned_to]").input_value() == "DPW Crew 4"
        assert page.locator("fieldset.resolution select[name=resolution]").count() == 1
        assert page.locator("#linked a").count() == 2
        assert page.locator(f"a[href='{links['pothole']}']").count() == 1
        page.screenshot(path=str(SHOTS / "console-case-outcome.png"), full_page=True)

        page.select_option("select[name=status]", "closed")
        page.select_option("select[name=resolution]", "fixed")
        page.fill("textarea[name=public_note]", "The crew filled the pothole this morning.")
        page.click("button:has-text('Update and text who asked for updates')")
        assert page.locator("#case-status").inner_text() == "closed"
    finally:
        ctx.close()
    assert refused == []

    ctx, page, refused = _open(browser, viewport=PHONE, java_script_enabled=False)
    try:
        page.goto(links["pothole"])
        assert page.locator("#status strong").inner_text() == "Closed (fixed)"
        last = page.locator("ol.timeline li").last
        assert "The crew filled the pothole this morning." in last.inner_text()
        summary = page.locator("#views-summary").inner_text()
        assert summary.startswith("Viewed by 1 staff member; last on ")
        assert "Sam" not in page.content()
        page.screenshot(path=str(SHOTS / "case-page-phone-closed.png"), full_page=True)
    finally:
        ctx.close()
    assert refused == []
