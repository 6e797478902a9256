"""The outbox worker against a local Twilio stand-in: sent once, retried, never lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.conversations import set_opt_out
from cases.db import make_engine, make_session_factory
from cases.models import OutboundMessage, utcnow
from cases.outbox import claim_due, enqueue_sms
from outbound.sender import TwilioSender
from outbound.worker import deliver_due
from settings import ROOT

SID = "AC" + "1" * 32


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def enqueue(sessions, to="+15550100001", body="Riverton 311: case 311-000001") -> int:
    with sessions() as s, s.begin():
        return enqueue_sms(db_session=s, to=to, body=body, reason="test").id


def message(sessions, mid) -> OutboundMessage:
    with sessions() as s:
        return s.get(OutboundMessage, mid)


def sender(standin) -> TwilioSender:
    return TwilioSender(SID, "token", "+15550100311", api_url=standin.url)


def test_sends_once_through_twilios_rest_api(standin, sessions):
    mid = enqueue(sessions)
    assert deliver_due(session_factory=sessions, sender=sender(standin)) == 1
    assert deliver_due(session_factory=sessions, sender=sender(standin)) == 0
    [req] = standin.requests
    assert req["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert (req["To"], req["From"], req["Body"]) == (
        "+15550100001",
        "+15550100311",
        "Riverton 311: case 311-000001",
    )
    sent = message(sessions, mid)
    assert sent.status == "sent" and sent.provider_sid.startswith("SM") and sent.attempts == 1


def test_transient_failures_retry_with_backoff(standin, sessions):
    mid = enqueue(sessions)
    standin.failures = [(500, 20500), (503, 20503)]
    now = [utcnow()]
    clock = lambda: now[0]  # noqa: E731
    deliver_due(session_factory=sessions, sender=sender(standin), clock=clock)
    first = message(sessions, mid)
    assert first.status == "pending" and first.next_attempt_at > now[0] and first.last_error
    assert deliver_due(session_factory=sessions, sender=sender(standin), clock=clock) == 0
    first_wait = first.next_attempt_at - now[0]
    now[0] = first.next_attempt_at
    deliver_due(session_factory=sessions, sender=sender(standin), clock=clock)
    second = message(sessions, mid)
    assert second.next_attempt_at - now[0] > 1.3 * first_wait  # doubled, give or take jitter
    now[0] = second.next_attempt_at
    deliver_due(session_factory=sessions, sender=sender(standin), clock=clock)
    assert message(sessions, mid).status == "sent" and len(standin.requests) == 1


def test_permanent_failure_is_not_retried(standin, sessions):
    mid = enqueue(sessions)
    standin.failures = [(400, 21211)]
    deliver_due(session_factory=sessions, sender=sender(standin))
    failed = message(sessions, mid)
    assert failed.status == "failed" and "21211" in failed.last_error


def test_opted_out_numbers_are_never_texted(standin, sessions):
    mid = enqueue(sessions, to="+15550100002")
    with sessions() as s, s.begin():
        set_opt_out(db_session=s, phone="+15550100002", keyword="stop", now=utcnow())
    deliver_due(session_factory=sessions, sender=sender(standin))
    assert message(sessions, mid).status == "failed" and standin.requests == []


def test_worker_process_drains_the_outbox(standin, sessions, database_url):
    ids = [enqueue(sessions, body=f"message {i}") for i in range(3)]
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN="token",
        CIVICLINE_SMS_FROM="+15550100311",
        CIVICLINE_TWILIO_API_URL=standin.url,
    )
    proc = subprocess.Popen([sys.executable, "-m", "outbound.worker"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sessions() as s:
                statuses = s.scalars(select(OutboundMessage.status)).all()
            if statuses == ["sent"] * 3:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    assert sorted(r["Body"] for r in standin.requests) == ["message 0", "message 1", "message 2"]
    assert all(message(sessions, i).status == "sent" for i in ids)


def test_a_message_in_doubt_is_not_sent_twice(standin, sessions):
    """The worker died after Twilio took the message but before recording it: no second send."""
    mid = enqueue(sessions, to="+15550100055", body="Riverton 311: case 311-000055 is closed.")
    now = [utcnow()]
    clock = lambda: now[0]  # noqa: E731
    with sessions() as s, s.begin():
        [claimed] = claim_due(db_session=s, now=now[0])  # worker 1 claims ...
    sender(standin).send(claimed.to, claimed.body)  # ... Twilio accepts ... and worker 1 dies
    now[0] += timedelta(seconds=61)  # its lease runs out
    deliver_due(session_factory=sessions, sender=sender(standin), clock=clock)
    assert len(standin.requests) == 1  # found at Twilio, not sent again
    done = message(sessions, mid)
    assert done.status == "sent" and done.provider_sid.startswith("SM")


def test_a_message_in_doubt_that_never_left_is_sent(standin, sessions):
    mid = enqueue(sessions, to="+15550100056")
    now = [utcnow()]
    with sessions() as s, s.begin():
        claim_due(db_session=s, now=now[0])  # claimed, then the worker died before sending
    now[0] += timedelta(seconds=61)
    deliver_due(session_factory=sessions, sender=sender(standin), clock=lambda: now[0])
    assert [r["To"] for r in standin.requests] == ["+15550100056"]
    assert message(sessions, mid).status == "sent"
