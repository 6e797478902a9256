"""Is it fixed? End to end: gunicorn, Rasa, the database, the console and the Twilio stand-in.

A resident files a pothole by SMS, staff close it as fixed in the console (signed in over
HTTP), the outbox worker texts the question through the stand-in, and the resident's signed
reply reopens the case. The text hours cover the whole day here and there is no delay, so
the test does not depend on the clock (tests/unit/test_fix_checks.py checks the daytime rules).
"""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import Case, FixCheck, OutboundMessage
from cases.users import create_user
from outbound.sender import TwilioSender
from outbound.worker import deliver_due
from scripts.chat import send
from tests.integration.conftest import gunicorn

pytestmark = pytest.mark.rasa
TOKEN = "fix-check-test-token"
SID = "AC" + "2" * 32
PASSWORD = "correct horse battery"
WHOLE_DAY = {"CIVICLINE_TEXT_HOURS": "00:00-24:00", "CIVICLINE_FIX_CHECK_DELAY_HOURS": "0"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, rasa_server):
    """One gunicorn (2 workers) and database for the module, with a member of staff."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fix_checks') / 'civicline.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        create_user(db_session=s, username="sam", password=PASSWORD, role="supervisor")
    with gunicorn(url, rasa_server, TOKEN, env_extra=WHOLE_DAY) as base:
        yield base, sessions
    engine.dispose()


def csrf(web: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', web.get(url, timeout=20).text).group(1)


@pytest.fixture(scope="module")
def staff(served) -> requests.Session:
    """A browser signed in to the console as sam."""
    base, _ = served
    web = requests.Session()
    resp = web.post(
        f"{base}/console/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "csrf_token": csrf(web, f"{base}/console/login"),
        },
        allow_redirects=False,
        timeout=20,
    )
    assert resp.status_code == 302
    return web


def file_pothole(base: str, phone: str) -> str:
    """Report a pothole by SMS through the signed webhook; returns the case number."""
    said = send(base, base, TOKEN, phone, "there's a huge pothole in front of 120 Elm St")[0]
    assert "Here's your report" in said and "120 Elm Street" in said, said
    filed = send(base, base, TOKEN, phone, "yes")[0]
    return re.search(r"311-\d{6}", filed).group(0)


def close_as_fixed(base: str, web: requests.Session, number: str) -> None:
    page = f"{base}/console/cases/{number}"
    resp = web.post(
        f"{page}/status",
        data={
            "csrf_token": csrf(web, page),
            "status": "closed",
            "resolution": "fixed",
            "public_note": "Filled and sealed.",
        },
        allow_redirects=False,
        timeout=20,
    )
    assert resp.status_code == 302
    assert "updated" in web.get(page, timeout=20).text


def drain(sessions, standin) -> list[dict[str, str]]:
    """Run the outbox worker once against the stand-in; the texts it sent."""
    before = len(standin.requests)
    sender = TwilioSender(SID, "token", "+15550100311", api_url=standin.url)
    deliver_due(session_factory=sessions, sender=sender)
    return standin.requests[before:]


def case_row(sessions, number: str) -> Case:
    with sessions() as s:
        return s.scalars(select(Case).where(Case.service_request_id == number)).one()


def test_not_fixed_reopens_the_case_from_the_residents_reply(served, staff, standin):
    base, sessions = served
    phone = "+15550100801"
    number = file_pothole(base, phone)
    close_as_fixed(base, staff, number)
    sent = drain(sessions, standin)
    assert drain(sessions, standin) == []  # sent once
    bodies = {r["Body"] for r in sent if r["To"] == phone}
    assert len(sent) == 2 and all(r["To"] == phone for r in sent)
    question = (
        f"Riverton 311: Was the pothole at 100 block of Elm Street fixed? "
        f"Reply 1 Yes, 2 No, 3 Partly. (Case {number})"
    )
    assert question in bodies and any("closed (fixed)" in b for b in bodies)
    [reply] = send(base, base, TOKEN, phone, "2")
    assert f"We've reopened case {number} and sent it back to Department of Public Works" in reply
    case = case_row(sessions, number)
    assert (case.status, case.reopen_count, case.resolution) == ("reopened", 1, None)
    with sessions() as s:
        check = s.scalars(select(FixCheck).where(FixCheck.phone == phone)).one()
        assert (check.answer, check.status) == ("no", "done")
        question_row = s.get(OutboundMessage, check.outbound_message_id)
        assert question_row.status == "sent" and question_row.reason == "fix_check"


def test_fixed_asks_for_a_rating_and_keeps_it(served, staff, standin):
    base, sessions = served
    phone = "+15550100802"
    send(base, base, TOKEN, phone, "graffiti on the wall at 300 main st")
    reply = send(base, base, TOKEN, phone, "yes")[0]
    number = re.search(r"311-\d{6}", reply).group(0)
    close_as_fixed(base, staff, number)
    asked = [r["Body"] for r in drain(sessions, standin)]
    assert any("Was the graffiti at 300 block of Main Street fixed?" in b for b in asked)
    [thanks] = send(base, base, TOKEN, phone, "yes")
    assert "Reply 1 to 5" in thanks
    [rated] = send(base, base, TOKEN, phone, "5")
    assert "Thank you for your rating" in rated
    assert case_row(sessions, number).status == "closed"
    with sessions() as s:
        check = s.scalars(select(FixCheck).where(FixCheck.phone == phone)).one()
        assert (check.answer, check.rating) == ("yes", 5)
