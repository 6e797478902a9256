"""An outbox you can trust: sent once, retried for a day, never lost, never silently dropped."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

import cases.outbox as outbox
import outbound.worker as worker
from cases.db import make_engine, make_session_factory
from cases.models import OutboundMessage, utcnow
from outbound.sender import TwilioSender
from settings import ROOT, Settings

SID = "AC" + "1" * 32
TO = "+15550100007"
BODY = "Riverton 311: case 311-000042 is closed. Reply HELP for help."


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def now():
    """A clock the test moves by hand."""
    return [utcnow()]


def enqueue(sessions, to=TO, body=BODY, at=None) -> int:
    with sessions() as s, s.begin():
        return outbox.enqueue_sms(db_session=s, to=to, body=body, reason="test", now=at).id


def row(sessions, mid) -> OutboundMessage:
    with sessions() as s:
        return s.get(OutboundMessage, mid)


def sender(standin, **kwargs) -> TwilioSender:
    return TwilioSender(SID, "token", "+15550100311", api_url=standin.url, **kwargs)


def deliver(sessions, standin, now, **kwargs) -> int:
    return worker.deliver_due(
        session_factory=sessions,
        sender=kwargs.pop("via", None) or sender(standin),
        clock=lambda: now[0],
        **kwargs,
    )


def run_until_settled(sessions, standin, now, mid, limit=200) -> list:
    """Deliver at each due time until the message is sent or failed; the attempt times."""
    times = []
    for _ in range(limit):
        message = row(sessions, mid)
        if message.status in ("sent", "failed"):
            return times
        now[0] = max(now[0], message.next_attempt_at)
        times.append(now[0])
        deliver(sessions, standin, now)
    raise AssertionError("never settled")


# -- which errors are final ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(401, 20003), (403, 20403), (429, 20429)])
def test_auth_and_rate_limit_errors_are_retried_not_failed(standin, sessions, now, status, code):
    """A rotated auth token (401) must not fail every queued text for good."""
    mid = enqueue(sessions, at=now[0])
    standin.failures = [(status, code)] * 3
    for _ in range(3):
        deliver(sessions, standin, now)
        assert row(sessions, mid).status == "pending"
        now[0] = row(sessions, mid).next_attempt_at
    deliver(sessions, standin, now)
    assert row(sessions, mid).status == "sent" and len(standin.requests) == 1


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21612, 21614])
def test_known_permanent_codes_are_final(standin, sessions, now, code):
    mid = enqueue(sessions, at=now[0])
    standin.failures = [(400, code)]
    deliver(sessions, standin, now)
    failed = row(sessions, mid)
    assert failed.status == "failed" and str(code) in failed.last_error and failed.attempts == 1


def test_unknown_client_error_is_retried_a_few_times_then_reported(standin, sessions, now, caplog):
    mid = enqueue(sessions, at=now[0])
    standin.failures = [(400, 21999)] * 20
    caplog.set_level(logging.INFO)
    deliver(sessions, standin, now)
    assert row(sessions, mid).status == "pending"
    run_until_settled(sessions, standin, now, mid)
    failed = row(sessions, mid)
    assert failed.status == "failed" and failed.attempts == outbox.CLIENT_ERROR_ATTEMPTS
    assert "21999" in failed.last_error
    assert f"outbox message {mid} failed" in caplog.text
    assert TO not in caplog.text and BODY not in caplog.text


# -- the retry schedule ----------------------------------------------------------------------


def test_retries_go_on_for_about_a_day_with_jittered_backoff(standin, sessions, now, caplog):
    mid = enqueue(sessions, at=now[0])
    standin.failures = [(503, 20503)] * 100
    caplog.set_level(logging.INFO)
    times = run_until_settled(sessions, standin, now, mid)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert row(sessions, mid).status == "failed"
    assert timedelta(hours=23) <= times[-1] - times[0] <= timedelta(hours=24, minutes=1)
    assert 20 <= len(times) <= 40
    assert all(later > 1.3 * earlier for earlier, later in itertools.pairwise(gaps[:7]))
    assert 20 <= gaps[0] <= 40 and max(gaps) <= 72 * 60
    assert len({round(g) for g in gaps[8:-1]}) > 1  # jitter: hourly retries do not line up
    assert f"outbox message {mid} failed" in caplog.text
    assert TO not in caplog.text and BODY not in caplog.text


# -- in doubt: looked up at Twilio, whatever the path ----------------------------------------


def test_in_doubt_survives_a_failed_lookup(standin, sessions, now):
    """Worker 1 died after Twilio took the text; the look-up fails once: still no second send."""
    mid = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        [claim] = outbox.claim_due(db_session=s, now=now[0])
    sender(standin).send(claim.to, claim.body)  # Twilio accepts, then the worker dies
    now[0] += timedelta(seconds=61)
    standin.list_failures = [(500, 20500)]
    deliver(sessions, standin, now)
    assert row(sessions, mid).status == "pending" and len(standin.requests) == 1
    now[0] = row(sessions, mid).next_attempt_at
    deliver(sessions, standin, now)
    assert len(standin.requests) == 1
    assert row(sessions, mid).status == "sent"


def test_a_send_that_timed_out_is_looked_up_before_it_is_sent_again(standin, sessions, now):
    mid = enqueue(sessions, at=now[0])
    standin.delay = 1.5  # Twilio takes the message but answers after the client gave up
    deliver(sessions, standin, now, via=sender(standin, timeout=0.5))
    assert row(sessions, mid).status == "pending" and row(sessions, mid).in_doubt
    standin.delay = 0
    now[0] = row(sessions, mid).next_attempt_at
    deliver(sessions, standin, now)
    assert len(standin.requests) == 1 and row(sessions, mid).status == "sent"


def test_a_lookup_does_not_take_a_twin_text_for_this_one(standin, sessions, now):
    """The same words sent to the same number earlier are not proof that this one went out."""
    first = enqueue(sessions, at=now[0])
    deliver(sessions, standin, now)
    assert row(sessions, first).status == "sent"
    second = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        outbox.claim_due(db_session=s, now=now[0])  # claimed, then the worker died unsent
    now[0] += timedelta(seconds=61)
    deliver(sessions, standin, now)
    assert len(standin.requests) == 2
    assert row(sessions, second).provider_sid != row(sessions, first).provider_sid


def test_a_requeued_failed_message_is_looked_up_first(standin, sessions, now):
    """An operator's retry of a message that gave up in doubt goes through the look-up."""
    mid = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        [claim] = outbox.claim_due(db_session=s, now=now[0])
    sender(standin).send(claim.to, claim.body)
    with sessions() as s, s.begin():  # a day of failed look-ups later it gave up, in doubt
        s.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == mid)
            .values(status="failed", in_doubt=True, last_error="twilio unreachable")
        )
    with sessions() as s, s.begin():
        outbox.requeue(db_session=s, message_id=mid, now=now[0])
    assert row(sessions, mid).status == "pending" and row(sessions, mid).in_doubt
    deliver(sessions, standin, now)
    assert len(standin.requests) == 1 and row(sessions, mid).status == "sent"


# -- leases and claim tokens -----------------------------------------------------------------


class SlowSender:
    """Each send first stalls 40 s of the shared clock; during the second stall worker B runs."""

    def __init__(self, inner, now, worker_b) -> None:
        self.inner, self.now, self.worker_b, self.sends = inner, now, worker_b, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def send(self, to, body):
        self.sends += 1
        self.now[0] += timedelta(seconds=40)
        if self.sends == 2:
            self.worker_b()
        return self.inner.send(to, body)


def test_a_batch_never_outlives_its_lease(standin, sessions, now):
    ids = [enqueue(sessions, body=f"message {i}", at=now[0]) for i in range(3)]
    slow = SlowSender(sender(standin), now, lambda: deliver(sessions, standin, now))
    deliver(sessions, standin, now, via=slow)
    assert sorted(r["Body"] for r in standin.requests) == ["message 0", "message 1", "message 2"]
    assert all(row(sessions, i).status == "sent" for i in ids)


def test_two_workers_racing_for_an_expired_lease_send_once(standin, sessions, now):
    mid = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        outbox.claim_due(db_session=s, now=now[0])  # a worker claimed it and died
    now[0] += timedelta(seconds=61)
    start = threading.Barrier(2)

    def race() -> None:
        start.wait()
        deliver(sessions, standin, now)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(standin.requests) == 1 and row(sessions, mid).status == "sent"


def test_a_stale_claim_can_neither_send_nor_record_a_failure(sessions, now):
    mid = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        [stale] = outbox.claim_due(db_session=s, now=now[0])
    now[0] += timedelta(seconds=61)
    with sessions() as s, s.begin():
        [fresh] = outbox.claim_due(db_session=s, now=now[0])
    assert fresh.token != stale.token and fresh.in_doubt
    with sessions() as s, s.begin():
        assert not outbox.begin_send(db_session=s, claim=stale, now=now[0])
        assert outbox.record_failure(db_session=s, claim=stale, error="x", now=now[0]) is None
    with sessions() as s, s.begin():
        assert outbox.begin_send(db_session=s, claim=fresh, now=now[0])
    with sessions() as s:
        message = s.get(OutboundMessage, mid)
        assert message.status == "sending" and message.claim_token == fresh.token


# -- no sending number, dry run --------------------------------------------------------------


def test_without_a_sending_number_texts_stay_pending_with_a_reported_error(sessions, database_url):
    mid = enqueue(sessions)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICLINE_")}
    env.update(
        DATABASE_URL=database_url,
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN="token",
        CIVICLINE_TWILIO_API_URL="http://127.0.0.1:9",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "outbound.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = row(sessions, mid)
            if message.status != "pending" or message.last_error:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert message.status == "pending" and message.attempts == 0
    assert "CIVICLINE_SMS_FROM" in message.last_error
    assert "CIVICLINE_SMS_FROM" in output and "NOT being sent" in output
    assert TO not in output and BODY not in output


def test_dry_run_is_refused_outside_development():
    for env in (
        {"CIVICLINE_SMS_DRY_RUN": "1"},
        {"CIVICLINE_SMS_DRY_RUN": "1", "CIVICLINE_ENV": "production"},
    ):
        with pytest.raises(worker.SenderConfigError, match="development"):
            worker.make_sender(Settings.from_env(env))


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ValueError, match="CIVICLINE_ENV"):
        Settings.from_env({"CIVICLINE_ENV": "prod"})


def test_dry_run_in_development_logs_masked_numbers_and_no_bodies(sessions, now, caplog):
    mid = enqueue(sessions, at=now[0])
    settings = Settings.from_env({"CIVICLINE_ENV": "development", "CIVICLINE_SMS_DRY_RUN": "1"})
    caplog.set_level(logging.INFO)
    worker.deliver_due(
        session_factory=sessions, sender=worker.make_sender(settings), clock=lambda: now[0]
    )
    message = row(sessions, mid)
    assert message.status == "dry_run" and message.provider_sid is None
    assert "+1555…0007" in caplog.text and f"{len(BODY)} characters" in caplog.text
    assert TO not in caplog.text and BODY not in caplog.text


def test_a_messaging_service_sends_without_a_from_number(standin, sessions, now):
    mid = enqueue(sessions, at=now[0])
    settings = Settings.from_env(
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "token",
            "CIVICLINE_SMS_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
            "CIVICLINE_TWILIO_API_URL": standin.url,
        }
    )
    worker.deliver_due(
        session_factory=sessions, sender=worker.make_sender(settings), clock=lambda: now[0]
    )
    [req] = standin.requests
    assert req["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in req
    assert row(sessions, mid).status == "sent"


def test_make_run_announces_its_dry_run_and_keeps_production_safe(monkeypatch, capsys):
    from scripts.run import outbox_mode

    for name in ("CIVICLINE_ENV", "CIVICLINE_SMS_FROM", "CIVICLINE_SMS_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    env, line = outbox_mode(Settings.from_env({}))
    assert "DRY RUN" in line and "DRY RUN" in capsys.readouterr().out
    assert worker.make_sender(Settings.from_env(env)).dry_run
    monkeypatch.setenv("CIVICLINE_ENV", "production")
    env, line = outbox_mode(Settings.from_env({"CIVICLINE_ENV": "production"}))
    assert "NOT sent" in line and "CIVICLINE_SMS_DRY_RUN" not in env
    assert worker.make_sender(Settings.from_env(env)) is None


def test_the_retry_command_requeues_through_the_lookup(settings, standin, sessions, now):
    from app import create_app
    from tests.fakes import FakeNLU

    mid = enqueue(sessions, at=now[0])
    with sessions() as s, s.begin():
        s.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == mid)
            .values(status="failed", in_doubt=True, last_error="twilio look-up failed")
        )
    app = create_app(settings, nlu=FakeNLU())
    cli = app.test_cli_runner()
    listed = cli.invoke(args=["outbox", "list"])
    assert f"{mid}\t" in listed.output and "+1555…0007" in listed.output and TO not in listed.output
    done = cli.invoke(args=["outbox", "retry", str(mid)])
    assert done.exit_code == 0 and "looked up there" in done.output
    assert cli.invoke(args=["outbox", "retry", str(mid)]).exit_code != 0  # not failed any more
    app.extensions["civicline"].db.dispose()
    message = row(sessions, mid)
    assert message.status == "pending" and message.in_doubt
