"""The console in real headless Chromium: sign in, filter, read, take a handoff, close a case."""

from __future__ import annotations

import re
import time

import pytest

from scripts.chat import send
from tests.conftest import AUTH_TOKEN
from tests.console_helpers import PASSWORD
from tests.e2e.conftest import SHOTS

pytestmark = [pytest.mark.rasa, pytest.mark.browser]


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/")
    assert "/console/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/$"))


def test_supervisor_works_a_handoff_and_closes_a_case(live, page, standin):
    base, _, _ = live
    resident, other = "+15550100901", "+15550100902"
    for body in ("there's a huge pothole on Elm St", "in front of 120", "yes"):
        filed = send(base, base, AUTH_TOKEN, resident, body)
    number = re.search(r"311-\d{6}", filed[0]).group(0)
    send(base, base, AUTH_TOKEN, other, "I want to talk to a person")

    sign_in(page, base, "sam")
    assert page.locator("figure svg").count() == 7  # + on time per week and by agency
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    page.click("text=Conversations")
    page.fill("input[name=q]", "talk to a person")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#conversations tbody tr")
    assert rows.count() == 1 and "0902" in rows.first.inner_text()
    assert "+15550100902" not in page.content()  # masked for supervisors
    page.screenshot(path=str(SHOTS / "conversations.png"), full_page=True)
    rows.first.locator("a").click()
    assert page.locator(".msg.resident").first.inner_text().count("talk to a person") == 1
    assert "request_human" in page.content()
    page.screenshot(path=str(SHOTS / "transcript.png"), full_page=True)

    page.click("text=Handoffs")
    assert page.locator("#handoffs tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / "handoffs.png"), full_page=True)
    page.click("#handoffs a:has-text('Open')")
    page.click("button:has-text('Take this conversation')")
    assert "You have this conversation" in page.content()
    page.fill("textarea[name=text]", "Hi, this is Sam at Riverton 311. How can I help?")
    page.click("button:has-text('Send text')")
    wait_for(lambda: any(r["To"] == other for r in standin.requests))
    assert standin.requests[-1]["Body"].startswith("Hi, this is Sam")

    page.click("text=Cases")
    page.click(f"text={number}")
    assert "120 Elm Street" in page.content()
    page.select_option("select[name=status]", "closed")
    page.fill("textarea[name=public_note]", "The crew filled it this morning.")
    page.click("button:has-text('Update and text who asked for updates')")
    assert "closing needs a resolution" in page.content()  # refused, nothing changed
    page.select_option("select[name=status]", "closed")
    page.select_option("select[name=resolution]", "fixed")
    page.fill("textarea[name=public_note]", "The crew filled it this morning.")
    page.click("button:has-text('Update and text who asked for updates')")
    assert "received → closed: fixed" in page.content()
    wait_for(lambda: any(r["To"] == resident and number in r["Body"] for r in standin.requests))
    page.reload()
    assert page.locator("#texts .badge.sent").count() == 1
    # "Was it fixed?" waits for daytime, at least 2 hours after the closing
    assert page.locator("#texts .badge.pending").count() == 1
    assert page.locator("#fix-checks li").count() == 1
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)


def test_admin_pages_and_supervisor_forbidden(live, page):
    base, _, _ = live
    sign_in(page, base, "ada")
    page.click("text=Admin")
    assert page.locator("h1").inner_text() == "Staff"
    page.screenshot(path=str(SHOTS / "admin-users.png"), full_page=True)
    page.click("text=Open311 API keys")
    page.fill("input[name=name]", "work orders")
    page.click("button:has-text('Create key')")
    assert page.locator("#new-key").inner_text().startswith("cl_")
    page.click("text=Audit log")
    assert "api_key.create" in page.content()
    page.screenshot(path=str(SHOTS / "admin-audit.png"), full_page=True)
    page.click("text=Sign out")
    sign_in(page, base, "sam")
    response = page.goto(f"{base}/console/admin/users")
    assert response.status == 403


def test_login_page(live, page):
    base, _, _ = live
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.content()
    page.screenshot(path=str(SHOTS / "login.png"))


def test_model_page_follows_training_with_its_static_script(live, page):
    base, app, _ = live
    from cases.nlu_models import ModelVersion

    sessions = app.extensions["civicline"].Session
    with sessions() as s, s.begin():
        version = ModelVersion(created_by="ada", status="training", progress=10)
        s.add(version)
        s.flush()
        version_id = version.id
    sign_in(page, base, "ada")
    page.goto(f"{base}/console/admin/models/{version_id}")
    with sessions() as s, s.begin():
        s.get(ModelVersion, version_id).progress = 60
    wait_for(lambda: page.locator("#percent").inner_text() == "60%")
    with sessions() as s, s.begin():
        s.get(ModelVersion, version_id).status = "failed"
    # the script sees it end and reloads the page, which then renders the final state
    wait_for(lambda: page.locator("#progress").get_attribute("data-status") == "failed")
