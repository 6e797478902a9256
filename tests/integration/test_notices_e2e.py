"""City notices, deployed: an admin publishes one in the console, subscribers in the area get one
text (never an opted-out number, never another street), and reports of it are deflected.

Real gunicorn (2 workers) over HTTP, real Rasa, a real database and the Twilio stand-in. The
text hours cover the whole day, so the broadcast does not depend on the clock.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from cases.db import make_engine, make_session_factory
from cases.models import Case, CaseFollower, OutboundMessage, utcnow
from cases.notice_models import AlertSubscription, Notice
from cases.users import create_user
from outbound.sender import TwilioSender
from outbound.worker import deliver_due
from scripts.chat import send
from tests.console_helpers import PASSWORD
from tests.integration.conftest import gunicorn

pytestmark = pytest.mark.rasa
TOKEN = "notices-test-token"
WHOLE_DAY = {"CIVICLINE_TEXT_HOURS": "00:00-24:00"}
IN_AREA, STOPPED, OTHER_STREET = "+15550105001", "+15550105002", "+15550105003"
REPORTER, INSISTS = "+15550105010", "+15550105011"
NOTICE = "Trash pickup on Elm Street is delayed today; trucks come tomorrow."


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def admin_session(base: str) -> requests.Session:
    web = requests.Session()
    resp = web.post(
        base + "/console/login",
        data={
            "username": "ada",
            "password": PASSWORD,
            "csrf_token": csrf(web.get(base + "/console/login", timeout=20).text),
        },
        allow_redirects=False,
        timeout=20,
    )
    assert resp.status_code == 302
    return web


def report_missed_pickup(base: str, phone: str) -> str:
    """A missed trash pickup at 120 Elm St by SMS, confirmed; the bot's last answer."""
    first = " ".join(send(base, base, TOKEN, phone, "my trash wasn't picked up at 120 Elm St"))
    assert "120 Elm Street" in first, first  # read back for confirmation
    return " ".join(send(base, base, TOKEN, phone, "yes"))


def test_a_published_notice_texts_subscribers_in_the_area_once_and_deflects_reports(
    database_url,
    rasa_server,
    standin,
    sessions,
    settings,
):
    with sessions() as s, s.begin():
        create_user(db_session=s, username="ada", password=PASSWORD, role="admin")
    zone = ZoneInfo(settings.timezone)
    now = utcnow()
    with gunicorn(database_url, rasa_server, TOKEN, env_extra=WHOLE_DAY) as base:
        for phone in (IN_AREA, STOPPED):
            said = " ".join(send(base, base, TOKEN, phone, "ALERTS TRASH 120 Elm St"))
            assert "Elm Street" in said and "Missed Trash" in said, said
        said = " ".join(send(base, base, TOKEN, OTHER_STREET, "ALERTS TRASH 5 Main St"))
        assert "Main Street" in said, said
        send(base, base, TOKEN, STOPPED, "STOP")

        web = admin_session(base)
        page = web.get(base + "/console/notices", timeout=20).text
        resp = web.post(
            base + "/console/notices",
            data={
                "csrf_token": csrf(page),
                "text_en": NOTICE,
                "streets": "Elm St",
                "service_codes": ["PW-MISSEDPICKUP"],
                "starts_at": (now - timedelta(minutes=5))
                .astimezone(zone)
                .strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (now + timedelta(hours=6)).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
                "broadcast": "1",
            },
            timeout=20,
        )
        assert resp.status_code == 200  # redirected back to the list
        assert "Texts queued: 1; skipped (opted out): 1." in resp.text
        active = resp.text.split('id="notices-active"')[1].split("</table>")[0]
        assert NOTICE in active and "1 queued, 1 skipped" in active

        sender = TwilioSender("AC" + "1" * 32, "token", "+15550100311", api_url=standin.url)
        while deliver_due(session_factory=sessions, sender=sender):
            pass
        notice_texts = [r for r in standin.requests if NOTICE in r["Body"]]
        assert [r["To"] for r in notice_texts] == [IN_AREA]  # once; not STOPPED, not Main St

        with sessions() as s:
            notice = s.scalars(select(Notice)).one()
            parent = s.get(Case, notice.parent_case_id)
            assert parent.source == "staff" and parent.service_code == "PW-MISSEDPICKUP"
            number = parent.service_request_id
            assert s.scalars(select(AlertSubscription)).all()  # consent kept
            queued = s.scalars(select(OutboundMessage).where(OutboundMessage.reason == "notice"))
            assert [m.to for m in queued] == [IN_AREA]

        known = report_missed_pickup(base, REPORTER)
        assert number in known and NOTICE in known, known
        with sessions() as s:
            assert [c.id for c in s.scalars(select(Case))] == [parent.id]  # nothing new filed
        follow = " ".join(send(base, base, TOKEN, REPORTER, "FOLLOW"))
        assert number in follow, follow
        with sessions() as s:
            follower = s.scalars(select(CaseFollower)).one()
            assert (follower.phone, follower.case_id) == (REPORTER, parent.id)
            assert len(s.scalars(select(Case)).all()) == 1

        assert number in report_missed_pickup(base, INSISTS)
        filed = " ".join(send(base, base, TOKEN, INSISTS, "FILE"))
        new = re.search(r"311-\d{6}", filed).group(0)
        assert new != number, filed
    with sessions() as s:
        cases = s.scalars(select(Case).order_by(Case.id)).all()
    assert [c.service_request_id for c in cases] == [number, new]
    assert cases[1].service_code == "PW-MISSEDPICKUP" and cases[1].contact_phone == INSISTS
    assert cases[1].address == "120 Elm Street"
