"""Deadlines in the console: overdue / due today filters, moving a due date, the overdue page.

Flask test client, the real SQLite store and a keyword NLU (no Rasa, no server).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from cases.models import AuditEntry, Case, CaseEvent, CaseFollower, OptOut, OutboundMessage, utcnow
from cases.service import create_case
from tests.console_helpers import add_staff, csrf, sign_in
from tests.fakes import FakeNLU

REPORTER, FOLLOWER, STOPPED = "+15550104001", "+15550104002", "+15550104003"


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def rt(app):
    add_staff(app.extensions["civicline"])
    return app.extensions["civicline"]


@pytest.fixture
def staff(app, rt):
    client = app.test_client()
    sign_in(client, "sam")
    return client


def plant(rt, *, due_day_offset: int | None, status: str = "received", **extra) -> str:
    """A case due at the end of (local today + offset) days, or with no due date."""
    calendar = rt.catalog.calendar
    now = utcnow()
    with rt.Session() as s, s.begin():
        case = create_case(
            db_session=s,
            service_code="PW-POTHOLE",
            service_name="Pothole",
            agency_responsible=extra.pop("agency", "Public Works"),
            description="hole",
            source="sms",
            address=extra.pop("address", None),
            now=now - timedelta(days=10),
            **extra,
        )
        if due_day_offset is not None:
            day = calendar.local_day(now) + timedelta(days=due_day_offset)
            case.due_datetime = case.expected_datetime = calendar.end_of(day)
        case.status = status
        return str(case.service_request_id)


def listed(staff, **args) -> set[str]:
    html = staff.get("/console/cases", query_string=args).get_data(as_text=True)
    return set(re.findall(r">(311-\d{6})</a>", html))


def test_overdue_and_due_today_filters_return_exactly_those_cases(rt, staff):
    late = plant(rt, due_day_offset=-1)
    today = plant(rt, due_day_offset=0, status="in_progress")
    plant(rt, due_day_offset=-1, status="closed")  # late but closed: neither
    plant(rt, due_day_offset=5)
    plant(rt, due_day_offset=None)
    assert listed(staff, due="overdue") == {late}
    assert listed(staff, due="today") == {today}
    assert len(listed(staff)) == 5
    html = staff.get("/console/cases").get_data(as_text=True)
    row = re.search(rf'<tr class="overdue">\s*<td><a [^>]+>{late}</a>', html)
    assert row and html.count('<tr class="overdue">') == 1
    page = staff.get(f"/console/cases/{late}").get_data(as_text=True)
    assert 'id="case-overdue"' in page
    assert 'id="case-overdue"' not in staff.get(f"/console/cases/{today}").get_data(as_text=True)


def move(staff, number: str, day: str, reason: str):
    token = csrf(staff, f"/console/cases/{number}")
    return staff.post(
        f"/console/cases/{number}/due",
        data={"due": day, "reason": reason, "csrf_token": token},
        follow_redirects=True,
    )


def test_moving_a_due_date_needs_a_reason_then_texts_each_number_once(rt, staff):
    number = plant(rt, due_day_offset=2, contact_phone=REPORTER, language="es")
    with rt.Session() as s, s.begin():
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        before = case.due_datetime
        s.add(CaseFollower(case_id=case.id, phone=FOLLOWER, language="en"))
        s.add(CaseFollower(case_id=case.id, phone=STOPPED, language="en"))
        s.add(OptOut(phone=STOPPED, keyword="STOP"))
    calendar = rt.catalog.calendar
    new_day = calendar.local_day(utcnow()) + timedelta(days=9)

    refused = move(staff, number, new_day.isoformat(), "   ")
    assert "needs a reason" in refused.get_data(as_text=True)
    with rt.Session() as s:
        assert s.scalars(select(Case.due_datetime).where(Case.service_request_id == number)).one()
        assert s.scalars(select(Case.due_datetime)).first() == before
        assert s.scalars(select(OutboundMessage)).all() == []

    move(staff, number, new_day.isoformat(), "waiting for a part from the supplier")
    with rt.Session() as s:
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        assert case.due_datetime == calendar.end_of(new_day)
        texts = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.due")).one()
        event = s.scalars(select(CaseEvent).where(CaseEvent.kind == "due_moved")).one()
    wording = rt.bot.wording
    by_phone = {t.to: t.body for t in texts}
    assert sorted(t.to for t in texts) == [REPORTER, FOLLOWER]  # once each, opted-out skipped
    assert wording.date(new_day, "es") in by_phone[REPORTER]  # in the reporter's language
    assert "a más tardar" in by_phone[REPORTER]
    assert wording.date(new_day, "en") in by_phone[FOLLOWER]
    assert audit.detail["reason"] == "waiting for a part from the supplier"
    assert audit.actor_name == "sam" and "waiting for a part" in event.notes
