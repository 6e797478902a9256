"""Deadlines in the console: overdue / due today filters, moving a due date, the overdue page.

Flask test client, the real SQLite store and a keyword NLU (no Rasa, no server).
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from cases.admin_models import AuditEntry
from cases.models import Case, CaseEvent, CaseFollower, OptOut, OutboundMessage, utcnow
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


class SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on a real socket that keeps each message's DATA."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages: list[tuple[list[str], str]] = []


class SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        rcpts: list[str] = []
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.messages.append((rcpts, data.decode()))  # type: ignore[attr-defined]
                rcpts = []
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # EHLO, HELO, MAIL, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp():
    sink = SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def plant_overdue(rt) -> tuple[str, str, str]:
    works = plant(rt, due_day_offset=-3, address="120 Elm Street")
    parks = plant(rt, due_day_offset=-1, agency="Parks Department")
    plant(rt, due_day_offset=-2, status="closed")
    on_time = plant(rt, due_day_offset=1)
    return works, parks, on_time


def test_digest_lists_overdue_per_agency_on_the_page_and_the_cli(rt, app, staff):
    works, parks, on_time = plant_overdue(rt)
    page = staff.get("/console/overdue").get_data(as_text=True)
    sections = re.findall(r"<h2>([^<]+?) <span.*?</table>", page, re.S)
    assert sections == ["Parks Department", "Public Works"]
    assert parks in page and works in page and on_time not in page
    printed = app.test_cli_runner().invoke(args=["cases", "overdue"])
    assert printed.exit_code == 0, printed.output
    assert "1 overdue case for Public Works" in printed.output
    assert f"{works}  due" in printed.output and "(3 days late)" in printed.output
    assert on_time not in printed.output


def test_digest_is_emailed_per_agency_through_a_real_smtp_socket(settings, smtp):
    host, port = smtp.server_address
    configured = replace(
        settings,
        smtp_url=f"smtp://{host}:{port}",
        digest_to=("works@riverton.example", "ops@riverton.example"),
    )
    app = create_app(configured, nlu=FakeNLU())
    rt = app.extensions["civicline"]
    try:
        works, parks, on_time = plant_overdue(rt)
        result = app.test_cli_runner().invoke(args=["cases", "overdue", "--send"])
    finally:
        rt.db.dispose()
    assert result.exit_code == 0, result.output
    assert "sent 2 digest e-mail(s)" in result.output
    assert len(smtp.messages) == 2
    (to1, parks_mail), (to2, works_mail) = smtp.messages
    assert to1 == to2 == ["works@riverton.example", "ops@riverton.example"]
    assert "Subject: Riverton 311: overdue cases for Parks Department" in parks_mail
    assert parks in parks_mail and works not in parks_mail
    assert works in works_mail and on_time not in works_mail + parks_mail


def test_dashboard_shows_the_on_time_share_per_service_and_agency(rt, staff):
    from cases.stats import on_time

    now = utcnow()
    with rt.Session() as s, s.begin():
        for i, (code, name, agency, ok) in enumerate(
            [
                ("PW-POTHOLE", "Pothole", "Public Works", True),
                ("PW-POTHOLE", "Pothole", "Public Works", True),
                ("PW-POTHOLE", "Pothole", "Public Works", False),  # closed late
                ("PW-POTHOLE", "Pothole", "Public Works", None),  # still open, past due
                ("PK-TREE", "Tree", "Parks Department", False),
            ]
        ):
            case = create_case(
                db_session=s,
                service_code=code,
                service_name=name,
                agency_responsible=agency,
                description="x",
                source="sms",
                now=now - timedelta(days=20 + i),
            )
            case.due_datetime = now - timedelta(days=3)
            if ok is not None:
                case.status = "closed"
                case.closed_datetime = case.due_datetime + timedelta(hours=-1 if ok else 5)
    with rt.Session() as s:
        figures = on_time(db_session=s, now=now)
    assert figures.by_service == {"Pothole": 0.5, "Tree": 0.0}
    assert figures.agency_total == {"Parks Department": 0.0, "Public Works": 0.5}
    html = staff.get("/console/").get_data(as_text=True)
    cell = '<td class="num on-time-share">'
    assert f'data-service="Pothole"><td>Pothole</td>{cell}50%' in html
    assert f'data-agency="Parks Department"><td>Parks Department</td>{cell}0%' in html
    assert "Closed on time: Public Works" in html
    oldest = html[html.find('id="oldest-open"') :].split("</table>")[0]
    assert len(re.findall(r">311-\d{6}<", oldest)) == 1  # the one open case


def test_the_daily_digest_is_sent_once_a_day_by_one_of_two_workers(settings, smtp):
    from datetime import UTC, datetime

    from cases.deadlines import default_calendar
    from outbound.digest_worker import tick

    host, port = smtp.server_address
    configured = replace(
        settings, smtp_url=f"smtp://{host}:{port}", digest_to=("ops@riverton.example",)
    )
    app = create_app(configured, nlu=FakeNLU())
    rt = app.extensions["civicline"]
    try:
        plant_overdue(rt)
        day = datetime.now(UTC).replace(hour=13, minute=0, second=0, microsecond=0)
        ticks = [
            tick(
                sessions=rt.Session,
                settings=configured,
                calendar=default_calendar(),
                owner=owner,
                now=day,
            )
            for owner in ("a", "b")
        ]
        later = tick(sessions=rt.Session, settings=configured, calendar=default_calendar(),
                     owner="a", now=day + timedelta(hours=3))  # fmt: skip
        tomorrow = tick(sessions=rt.Session, settings=configured, calendar=default_calendar(),
                        owner="b", now=day + timedelta(days=1))  # fmt: skip
    finally:
        rt.db.dispose()
    assert ticks == [2, None] and later is None  # two agencies' e-mails, once
    assert tomorrow == 2 and len(smtp.messages) == 4
