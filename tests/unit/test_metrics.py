"""Metrics, request ids and request logs through the Flask test client with the fake NLU."""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY

import telemetry
from app import create_app
from cases.fleet_models import RasaReplica
from cases.job_models import Job
from cases.migrate import upgrade
from cases.models import Conversation, OutboundMessage, utcnow
from cases.outbox import enqueue_sms
from nlu.client import RasaClient
from ops.metrics import allowed
from outbound.worker import deliver_due
from settings import Settings
from telemetry import metrics
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.fakes import FakeNLU
from tests.integration.conftest import sign, sms_form
from tests.twilio_standin import JsonHandler

PHONE = "+15550107788"
TOKEN = "metrics-test-token-0123456789"
_sids = itertools.count(1)


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 if never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class RecordingNLU(FakeNLU):
    """The fake NLU, noting the request id the layers below the web see during each parse."""

    def __init__(self) -> None:
        super().__init__()
        self.request_ids: list[str | None] = []

    def parse(self, text: str, language: str = "en"):  # type: ignore[no-untyped-def]
        self.request_ids.append(telemetry.request_id())
        return super().parse(text, language)


@pytest.fixture(scope="module")
def nlu() -> RecordingNLU:
    return RecordingNLU()


@pytest.fixture(scope="module")
def app(tmp_path_factory, nlu):
    """One app for the module (building one costs a second; the budget is tight)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'civicline.db'}"
    upgrade(url)
    settings = Settings.from_env(
        {},
        database_url=url,
        twilio_auth_token=AUTH_TOKEN,
        public_url=PUBLIC_URL,
        twilio_account_sid="AC" + "0" * 32,
        rate_limits=False,
        trusted_proxies=1,
        metrics_token=TOKEN,
    )
    app = create_app(settings, nlu=nlu)
    app.config.update(TESTING=True)
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["civicline"]


@pytest.fixture
def request_log():
    """The JSON lines the civicline.request logger writes during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from telemetry.logs import JsonFormatter

    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("civicline.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def text(client, body: str, headers: dict[str, str] | None = None, sender: str = PHONE):
    form = sms_form(body, sender, f"SM{next(_sids):032x}")
    signed = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form), **(headers or {})}
    return client.post("/twilio/sms", data=form, headers=signed)


def test_a_report_by_text_counts_its_turns_intent_latency_and_the_case_filed(client):
    turns = sample("civicline_turns_total", channel="sms", intent="pothole")
    affirm = sample("civicline_turns_total", channel="sms", intent="expected_answer")  # "yes"
    filed = sample("civicline_cases_filed_total", service_code="PW-POTHOLE")
    timed = sample(
        "civicline_http_request_duration_seconds_count",
        route="/twilio/sms",
        method="POST",
        status="200",
    )
    for body in ("there's a huge pothole on Elm St", "in front of 120", "yes"):
        assert text(client, body).status_code == 200
    assert sample("civicline_turns_total", channel="sms", intent="pothole") == turns + 1
    assert sample("civicline_turns_total", channel="sms", intent="expected_answer") == affirm + 1
    assert sample("civicline_cases_filed_total", service_code="PW-POTHOLE") == filed + 1
    after = sample(
        "civicline_http_request_duration_seconds_count",
        route="/twilio/sms",
        method="POST",
        status="200",
    )
    assert after == timed + 3


def test_metrics_answers_the_token_only_behind_a_proxy_and_404s_everyone_else(client):
    # This app believes one proxy (CIVICLINE_TRUSTED_PROXIES=1): a client that forges
    # X-Forwarded-For: 127.0.0.1 has its own address appended by the proxy, and a proxy on this
    # machine makes every peer loopback, so behind a proxy only the token opens /metrics.
    forged = {"X-Forwarded-For": "127.0.0.1"}
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote, headers=forged).status_code == 404
    assert client.get("/metrics", headers=forged).status_code == 404  # via a local proxy
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", environ_base=remote).status_code == 404
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=remote, headers=wrong).status_code == 404
    good = {"Authorization": f"Bearer {TOKEN}"}
    resp = client.get("/metrics", environ_base=remote, headers={**good, **forged})
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    body = resp.get_data(as_text=True)
    for name in (
        "civicline_http_request_duration_seconds_bucket",
        "civicline_handoff_queue_length",
        "civicline_outbox_oldest_age_seconds",
        "civicline_store_up 1.0",
    ):
        assert name in body


@pytest.mark.parametrize(
    ("peer", "headers", "token", "ok"),
    [
        ("127.0.0.1", {}, None, True),  # Prometheus on this machine, no proxy configured
        ("::1", {}, None, True),
        ("203.0.113.9", {}, None, False),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, None, False),  # relayed
        ("127.0.0.1", {"Forwarded": "for=127.0.0.1"}, None, False),
        ("203.0.113.9", {"Authorization": "Bearer "}, None, False),  # no token set: no token
        ("203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}, TOKEN, True),
        ("203.0.113.9", {"Authorization": f"Bearer {TOKEN}x"}, TOKEN, False),
    ],
)
def test_who_may_scrape_without_a_proxy(app, peer, headers, token, ok):
    settings = replace(app.extensions["civicline"].settings, trusted_proxies=0, metrics_token=token)
    with app.test_request_context("/metrics", environ_base={"REMOTE_ADDR": peer}, headers=headers):
        assert allowed(settings) is ok


def test_request_id_round_trip_reaches_the_nlu_and_the_log_has_no_personal_data(
    client, nlu, request_log
):
    resp = text(
        client, "noise from 42 Elm St, call me at 555-867-5309", {"X-Request-ID": "lb-7f3a9c21"}
    )
    assert resp.headers["X-Request-ID"] == "lb-7f3a9c21"
    assert nlu.request_ids[-1] == "lb-7f3a9c21"  # what the NLU client sends on as X-Request-ID
    bad = text(client, "thanks", {"X-Request-ID": "x" * 200})
    fresh = bad.headers["X-Request-ID"]
    assert len(fresh) == 32 and fresh != "x" * 200
    assert telemetry.request_id() is None  # nothing leaks past the request
    lines = request_log()
    assert [line["request_id"] for line in lines] == ["lb-7f3a9c21", fresh]
    first = lines[0]
    assert first["route"] == "/twilio/sms" and first["channel"] == "sms"
    assert first["method"] == "POST" and first["status"] == 200 and first["duration_ms"] >= 0
    raw = json.dumps(lines)
    for secret in ("5550107788", "867-5309", "noise", "Elm", "SM"):
        assert secret not in raw
    client.get("/c/311-000001-k7Q2xRsecret?phone=5550107788")
    assert request_log()[-1]["route"] in ("/c/<path:ref>", "/c/<ref>", "unmatched")
    assert "k7Q2xR" not in json.dumps(request_log()) and "5550107788" not in json.dumps(
        request_log()
    )


def voice(client, path: str, headers: dict[str, str] | None = None, **fields: str):
    form = {"CallSid": "CA" + "7" * 32, "AccountSid": "AC" + "0" * 32, "From": "+15550107799"}
    form |= {"To": "+15550100311", "CallStatus": "in-progress", **fields}
    signed = {"X-Twilio-Signature": sign(PUBLIC_URL + path, form), **(headers or {})}
    return client.post(path, data=form, headers=signed)


def test_a_text_queued_by_a_call_records_the_calls_request_id(client, runtime, request_log):
    assert voice(client, "/twilio/voice").status_code == 200
    rid = {"X-Request-ID": "call-req-0001"}
    resp = voice(client, "/twilio/voice/gather?t=1", rid, Digits="8")  # 8: "text me instead"
    assert resp.status_code == 200 and resp.headers["X-Request-ID"] == "call-req-0001"
    with runtime.Session() as db_session:
        row = db_session.query(OutboundMessage).filter_by(reason="text_me").one()
    assert row.request_id == "call-req-0001"
    line = request_log()[-1]
    assert line["channel"] == "voice" and line["route"] == "/twilio/voice/gather"
    assert "7799" not in json.dumps(request_log()) and "CA777" not in json.dumps(request_log())


def test_outbox_rows_carry_the_request_id_into_the_workers_log(runtime, caplog):
    telemetry.set_request_id("req-0123456789")
    try:
        with runtime.Session() as db_session, db_session.begin():
            queued = enqueue_sms(db_session=db_session, to=PHONE, body="Case", reason="case_number")
            queued_id = queued.id
    finally:
        telemetry.set_request_id(None)
    with runtime.Session() as db_session:
        assert db_session.get(OutboundMessage, queued_id).request_id == "req-0123456789"

    class Sender:
        dry_run = False

        def send(self, to: str, body: str) -> str:
            return "SM" + "f" * 32

        def find_sent(self, *args: object, **kwargs: object) -> str | None:
            return None

    with caplog.at_level(logging.INFO, logger="civicline.outbound"):
        assert deliver_due(session_factory=runtime.Session, sender=Sender()) >= 1
    lines = [r.getMessage() for r in caplog.records if "sent as" in r.getMessage()]
    assert any(f"outbox message {queued_id} sent" in line for line in lines)
    assert any("request req-0123456789" in line for line in lines)
    assert not any(PHONE in line or "Case" in line for line in lines)  # no number, no body


def gauge(body: str, name: str) -> float:
    return float(re.search(rf"^{name} (\S+)$", body, re.M).group(1))  # type: ignore[union-attr]


def test_store_gauges_read_the_queues_and_jobs(client, runtime):
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    before = client.get("/metrics", headers=scrape).get_data(as_text=True)
    now = utcnow()
    with runtime.Session() as db_session, db_session.begin():
        db_session.add(
            Conversation(
                channel="sms",
                sender="+15550109999",
                handoff_status="waiting",
                handoff_requested_at=now.replace(microsecond=0)
                - __import__("datetime").timedelta(minutes=5),
            )
        )
        db_session.add(Job(kind="train", status="running"))
        enqueue_sms(db_session=db_session, to=PHONE, body="x", reason="test", now=now)
        db_session.add(
            RasaReplica(
                machine="web-2",
                url="http://10.0.0.2:5005",
                language="en",
                state="draining",
                version_id=7,
                seen_at=now,
            )
        )
    body = client.get("/metrics", headers=scrape).get_data(as_text=True)
    replica = 'language="en",machine="web-2"'  # labels come out in name order
    url = 'url="http://10.0.0.2:5005"'
    assert f'civicline_rasa_replica_state{{{replica},state="draining",{url}}} 1.0' in body
    assert f"civicline_rasa_replica_version{{{replica},{url}}} 7.0" in body
    for name in ("civicline_handoff_queue_length", "civicline_outbox_depth"):
        assert gauge(body, name) == gauge(before, name) + 1
    assert 290 < gauge(body, "civicline_handoff_oldest_wait_seconds") < 400
    assert gauge(body, "civicline_outbox_oldest_age_seconds") >= 0
    assert 'civicline_jobs{kind="train",status="running"} 1.0' in body
    assert PHONE not in body


class RasaLike(JsonHandler):
    """Answers /model/parse like Rasa and remembers each request's X-Request-ID."""

    seen: list[str | None] = []

    def do_POST(self) -> None:
        RasaLike.seen.append(self.headers.get("X-Request-ID"))
        length = int(self.headers.get("Content-Length") or 0)
        said = json.loads(self.rfile.read(length))["text"]
        name = "nlu_fallback" if said.startswith("blorp") else "pothole"
        self._json(200, {"intent": {"name": name, "confidence": 0.9}, "entities": []})

    def do_GET(self) -> None:
        self._json(200, {"model_file": "m.tar.gz"})


def test_nlu_client_times_parses_by_outcome_and_sends_the_request_id():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RasaLike)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        client = RasaClient(f"http://127.0.0.1:{server.server_port}", language="es")
        labels = {"language": "es", "model_version": metrics.model_version("es")}
        before = {
            o: sample("civicline_nlu_parses_total", **labels, outcome=o)
            for o in ("understood", "fallback")
        }
        count = sample("civicline_nlu_parse_duration_seconds_count", **labels)
        telemetry.set_request_id("rasa-req-42abc")
        try:
            client.parse("bache en la calle Elm")
            client.parse("blorp")
        finally:
            telemetry.set_request_id(None)
        assert RasaLike.seen[-2:] == ["rasa-req-42abc", "rasa-req-42abc"]
        assert (
            sample("civicline_nlu_parses_total", **labels, outcome="understood")
            == before["understood"] + 1
        )
        assert (
            sample("civicline_nlu_parses_total", **labels, outcome="fallback")
            == before["fallback"] + 1
        )
        assert sample("civicline_nlu_parse_duration_seconds_count", **labels) == count + 2
    finally:
        server.shutdown()
        server.server_close()
