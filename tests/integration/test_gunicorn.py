"""The app as deployed: gunicorn with two workers over real HTTP, sharing one database."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from cases.models import Case
from scripts.chat import send
from settings import ROOT
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
    # /metrics adds up both workers (multiprocess mode): more retries until both have answered
    sent = 7
    while len(_worker_files(server)) < 2 and sent < 40:
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(retry, range(4))) == set(bodies)
        sent += 4
    assert len(_worker_files(server)) == 2
    metrics_add_up(server, requests_=sent, turns=2)  # the retries replay: no turn, no case


def _worker_files(server: str) -> set[str]:
    """The pids of the gunicorn workers that have recorded a histogram sample."""
    folder = ROOT / "var" / "metrics" / f"port-{urlsplit(server).port}"
    return {p.stem.rsplit("_", 1)[1] for p in folder.glob("histogram_*.db")}


def metrics_add_up(server: str, *, requests_: int, turns: int) -> None:
    """/metrics counts every worker's requests, turns and the case exactly once.

    Checked on this test's gunicorn rather than one of its own: starting gunicorn is the slow
    part of these tests.
    """
    resp = requests.get(server + "/metrics", timeout=10)  # from loopback: no token needed
    assert resp.status_code == 200 and resp.headers["X-Request-ID"]
    body = resp.text
    sms = {"route": "/twilio/sms", "method": "POST", "status": "200"}
    assert _total(body, "civicline_http_request_duration_seconds_count", **sms) == requests_
    assert _total(body, "civicline_turns_total", channel="sms") == turns
    assert _total(body, "civicline_cases_filed_total") == 1
    assert _total(body, "civicline_nlu_parses_total", language="en") >= 1
    assert _total(body, "civicline_rasa_replica_up") == 1  # the session's one Rasa server
    assert _total(body, "civicline_store_up") == 1


def test_a_blank_text_gets_valid_twiml_under_gunicorn(server):
    [reply] = send(server, server, TOKEN, "+15550100043", "")
    assert "no words" in reply and "911" in reply


def _total(body: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (Prometheus text format)."""
    total = 0.0
    for line in body.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total
