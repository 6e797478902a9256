"""Operations in real headless Chromium: an admin publishes a city notice; a supervisor reads
the overdue digest and the cases list filtered to overdue."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cases import notices
from cases.deadlines import default_calendar
from cases.models import utcnow
from cases.notice_models import Notice
from cases.service import create_case
from tests.e2e.conftest import SHOTS
from tests.e2e.test_console_browser import sign_in

pytestmark = [pytest.mark.rasa, pytest.mark.browser]
NOTICE = "Missed trash pickup on Elm Street today: trucks return tomorrow morning."
HIGHLIGHT = "rgb(255, 244, 242)"  # tr.overdue td in console.css


def test_admin_publishes_a_notice_in_the_browser_and_sees_it_active(live, page):
    base, app, settings = live
    rt = app.extensions["civicline"]
    now = utcnow()
    with rt.Session() as s, s.begin():
        for phone, street in [("+15550106001", "Elm Street"), ("+15550106002", "Main Street")]:
            notices.subscribe(
                db_session=s,
                phone=phone,
                service_codes=["PW-MISSEDPICKUP"],
                street=street,
                language="en",
                source_text="ALERTS TRASH",
                now=now,
            )
    zone = ZoneInfo(settings.timezone)

    def local(at) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    sign_in(page, base, "ada")
    page.click("nav >> text=Notices")
    assert page.locator("h1").inner_text() == "City notices"
    assert "None." in page.locator("#notices-active").inner_text()
    page.fill("textarea[name=text_en]", NOTICE)
    page.fill("input[name=streets]", "elm st")
    page.check("input[name=service_codes][value=PW-MISSEDPICKUP]")
    page.fill("input[name=starts_at]", local(now - timedelta(minutes=5)))
    page.fill("input[name=ends_at]", local(now + timedelta(hours=8)))
    page.check("input[name=broadcast]")
    page.click("button:has-text('Publish')")

    assert "Texts queued: 1; skipped (opted out): 0." in page.content()
    rows = page.locator("#notices-active tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert NOTICE in row and "Elm Street" in row and "PW-MISSEDPICKUP" in row
    assert "1 queued" in row
    parent = re.search(r"311-\d{6}", row).group(0)  # the case filed for the notice
    assert page.locator("#notices-upcoming").inner_text().count("None.") == 1
    page.screenshot(path=str(SHOTS / "notices.png"), full_page=True)
    with rt.Session() as s:
        notice = s.scalars(select(Notice)).one()
        assert notice.streets == ["Elm Street"] and notice.broadcast_queued == 1
    assert parent


def plant(rt, calendar, *, days: int, agency: str, service: str, address: str, status="received"):
    """A case due at the end of (local today + days)."""
    now = utcnow()
    with rt.Session() as s, s.begin():
        case = create_case(
            db_session=s,
            service_code="PW-POTHOLE",
            service_name=service,
            agency_responsible=agency,
            description="planted",
            source="sms",
            address=address,
            now=now - timedelta(days=20),
        )
        day = calendar.local_day(now) + timedelta(days=days)
        case.due_datetime = case.expected_datetime = calendar.end_of(day)
        case.status = status
        return str(case.service_request_id), day.isoformat()


def test_supervisor_reads_the_overdue_digest_and_the_overdue_cases(live, page):
    base, app, _ = live
    rt = app.extensions["civicline"]
    calendar = rt.catalog.calendar or default_calendar()
    works_old = plant(
        rt, calendar, days=-5, agency="Public Works", service="Pothole", address="120 Elm Street"
    )
    works_new = plant(
        rt,
        calendar,
        days=-1,
        agency="Public Works",
        service="Pothole",
        address="5 Main Street",
        status="in_progress",
    )
    parks = plant(
        rt, calendar, days=-2, agency="Parks", service="Fallen tree", address="1 Oak Street"
    )
    today = plant(
        rt, calendar, days=0, agency="Public Works", service="Pothole", address="9 Elm Street"
    )
    closed = plant(
        rt,
        calendar,
        days=-3,
        agency="Parks",
        service="Fallen tree",
        address="2 Oak Street",
        status="closed",
    )

    sign_in(page, base, "sam")
    page.click("nav >> text=Overdue")
    assert page.locator("h1").inner_text().startswith("Overdue cases")
    sections = page.locator("section.overdue-agency")
    assert sections.count() == 2
    digest = {
        sections.nth(i).locator("h2").inner_text(): [
            [cell.strip() for cell in row.split("\t")]
            for row in sections.nth(i).locator("tbody tr").all_inner_texts()
        ]
        for i in range(2)
    }
    assert digest == {
        "Parks 1 overdue": [
            [parks[0], parks[1], "2 days", "Fallen tree", "1 Oak Street", "received"]
        ],
        "Public Works 2 overdue": [
            [works_old[0], works_old[1], "5 days", "Pothole", "120 Elm Street", "received"],
            [works_new[0], works_new[1], "1 day", "Pothole", "5 Main Street", "in progress"],
        ],
    }
    assert (
        page.locator("tr.overdue td").first.evaluate("td => getComputedStyle(td).backgroundColor")
        == HIGHLIGHT
    )
    page.screenshot(path=str(SHOTS / "overdue.png"), full_page=True)

    page.click("nav >> text=Cases")
    assert page.locator("#cases tbody tr").count() == 5
    page.select_option("select[name=due]", "overdue")
    page.click("form.filters button[type=submit]")
    assert "due=overdue" in page.url
    rows = page.locator("#cases tbody tr")
    shown = {re.search(r"311-\d{6}", text).group(0): text for text in rows.all_inner_texts()}
    assert set(shown) == {works_old[0], works_new[0], parks[0]}  # not due today, not closed
    assert page.locator("#cases tbody tr.overdue").count() == 3  # every row highlighted
    for number, due in (works_old, works_new, parks):
        assert f"{due} overdue" in shown[number]  # the local due day, with its badge
    assert (
        rows.first.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
        == HIGHLIGHT
    )
    page.screenshot(path=str(SHOTS / "cases-overdue.png"), full_page=True)

    page.select_option("select[name=due]", "today")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#cases tbody tr")
    assert rows.count() == 1 and today[0] in rows.first.inner_text()
    assert today[1] in rows.first.inner_text()
    assert page.locator("#cases tbody tr.overdue").count() == 0  # due tonight: not late yet
    assert closed[0] not in page.content()
