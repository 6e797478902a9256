"""Closing the loop, deployed: reports of one problem linked, FOLLOW, staff closes, texts go once.

Real gunicorn (2 workers) over HTTP, real Rasa, a real database and the Twilio stand-in.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import requests
from sqlalchemy import select

from cases.db import make_engine, make_session_factory
from cases.models import Case
from cases.users import create_user
from outbound.sender import TwilioSender
from outbound.worker import deliver_due
from scripts.chat import send
from tests.console_helpers import PASSWORD
from tests.integration.conftest import gunicorn

pytestmark = pytest.mark.rasa
TOKEN = "outcomes-test-token"
REPORTERS = [f"+1555010{n:04d}" for n in range(2000, 2021)]  # the first and 20 more
NEIGHBOUR, OPTED_OUT = "+15550103000", "+15550103001"


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def staff_session(base: str) -> requests.Session:
    web = requests.Session()
    page = web.get(base + "/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = web.post(
        base + "/console/login",
        data={"username": "sam", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status_code == 302
    return web


def test_closing_a_case_with_twenty_linked_reports_texts_every_follower_once(
    database_url, rasa_server, standin, sessions
):
    with sessions() as s, s.begin():
        create_user(db_session=s, username="sam", password=PASSWORD, role="supervisor")
    with gunicorn(database_url, rasa_server, TOKEN) as base:
        replies = []
        for phone in REPORTERS:
            send(base, base, TOKEN, phone, "there is a pothole at 120 elm st")
            replies.append(send(base, base, TOKEN, phone, "yes")[0])
        first = re.search(r"311-\d{6}", replies[0]).group(0)
        assert all(f"already known as case {first}" in r for r in replies[1:])
        link = re.search(r"https?://\S+/c/311-\d{6}-\w+", replies[0]).group(0)
        assert link.startswith(base)  # the filing text carries the public page's address
        follow = send(base, base, TOKEN, REPORTERS[5], "follow")[0]
        assert f"each time case {first} changes" in follow
        for phone in (NEIGHBOUR, OPTED_OUT):
            assert "each time" in send(base, base, TOKEN, phone, f"FOLLOW {first}")[0]
        send(base, base, TOKEN, OPTED_OUT, "STOP")

        web = staff_session(base)
        page = web.get(f"{base}/console/cases/{first}").text
        assert page.count("311-0000") >= 21  # the 20 linked reports are listed
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = web.post(
            f"{base}/console/cases/{first}/status",
            data={
                "csrf_token": token,
                "status": "closed",
                "resolution": "fixed",
                "public_note": "Crew filled the pothole on Tuesday.",
            },
            allow_redirects=False,
        )
        assert resp.status_code == 302
        page = requests.get(link, timeout=10)  # the resident's link, served by gunicorn
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        html = page.text
        assert "Crew filled the pothole on Tuesday." in html and "20 other residents" in html
        timeline = re.findall(r'<li class="(\w+)">', html.split('id="history"')[1])
        assert timeline == ["received", "closed"]  # in order
        digits = re.sub(r"\D", "", html)
        assert not [p for p in (*REPORTERS, NEIGHBOUR) if p[2:] in digits]  # no phone numbers
        assert requests.get(link[:-2] + "xx", timeout=10).status_code == 404  # wrong token
    sender = TwilioSender("AC" + "1" * 32, "token", "+15550100311", api_url=standin.url)
    while deliver_due(session_factory=sessions, sender=sender):
        pass
    texts = Counter(r["To"] for r in standin.requests)
    assert set(texts) == {*REPORTERS, NEIGHBOUR}  # the opted-out follower: nothing
    assert set(texts.values()) == {1}  # exactly one text per number, 22 in all
    bodies = [r["Body"] for r in standin.requests]
    assert all("closed (fixed)" in b and "Crew filled the pothole" in b for b in bodies)
    with sessions() as s:
        cases = s.scalars(select(Case)).all()
    assert len(cases) == 21 and all(c.status == "closed" for c in cases)
    assert {c.resolution for c in cases} == {"fixed"}
