"""The app as deployed: gunicorn with two workers over real HTTP, sharing one database."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from cases.models import Case
from scripts.chat import send
from tests.integration.conftest import gunicorn

pytestmark = pytest.mark.rasa
TOKEN = "gunicorn-test-token"


@pytest.fixture
def server(database_url, rasa_server):
    """gunicorn (2 workers) on a free port, with the test database and the session's Rasa."""
    with gunicorn(database_url, rasa_server, TOKEN) as base:
        yield base


def test_three_message_report_over_http(server, database_url):
    replies = [
        send(server, server, TOKEN, "+15550100042", body)[0]
        for body in ("water gushing out of the street", "elm st and 3rd ave", "yes")
    ]
    assert "where" in replies[0].lower()
    assert (
        "Here's your report" in replies[1] and "Leak source: The street or pavement" in replies[1]
    )
    number = re.search(r"311-\d{6}", replies[2]).group(0)
    with create_engine(database_url).connect() as conn:
        stored = conn.execute(
            text("select service_code, address from cases where service_request_id = :n"),
            {"n": number},
        ).one()
    assert tuple(stored) == ("WS-LEAK", "Elm Street and 3rd Avenue")


def test_concurrent_retries_of_one_message_file_one_case(server, database_url):
    send(server, server, TOKEN, "+15550100043", "graffiti on the wall at 300 main st")
    form_sid = "SM" + "c" * 32

    def retry(_: int) -> str:
        from twilio.request_validator import RequestValidator

        form = {
            "MessageSid": form_sid,
            "From": "+15550100043",
            "To": "+15550100311",
            "Body": "yes",
            "AccountSid": "AC" + "0" * 32,
        }
        sig = RequestValidator(TOKEN).compute_signature(server + "/twilio/sms", form)
        return requests.post(
            server + "/twilio/sms", data=form, timeout=20, headers={"X-Twilio-Signature": sig}
        ).text

    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(retry, range(6)))
    assert len(set(bodies)) == 1 and "311-" in bodies[0]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Case.__table__)).scalar() == 1


def test_a_blank_text_gets_valid_twiml_under_gunicorn(server):
    [reply] = send(server, server, TOKEN, "+15550100043", "")
    assert "no words" in reply and "911" in reply
