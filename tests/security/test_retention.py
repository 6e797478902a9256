"""Retention: rows planted at various ages in a real SQLite store, the job run, what is left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import event, select

from app import create_app
from cases import locks, retention
from cases.admin_models import AuditEntry, LoginAttempt
from cases.db import make_engine, make_session_factory
from cases.login_limits import FREE_FAILURES as MAX_FAILURES_PER_USER
from cases.login_limits import RateLimited
from cases.models import Case, Conversation, OutboundMessage, Turn
from cases.nlu_models import ModelVersion, TrainingCandidate
from cases.users import authenticate, create_user
from tests.fakes import FakeNLU

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
POLICY = retention.Policy()  # the documented defaults


def ago(days: float = 0, **kw: float) -> datetime:
    return NOW - timedelta(days=days, **kw)


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def conversation(s, *, ended: datetime | None, sender: str = "+15550100001", case: str = ""):
    """A conversation with two turns (and a case with status `case`, if given)."""
    conv = Conversation(
        channel="sms",
        sender=sender,
        status="closed" if ended else "active",
        state={"slots": {"address": "120 Elm St"}},
        started_at=(ended or NOW) - timedelta(minutes=5),
        last_activity_at=ended or NOW,
        ended_at=ended,
        end_reason="timeout" if ended else None,
    )
    s.add(conv)
    s.flush()
    at = conv.started_at
    for i, words in enumerate(["pothole at 120 elm st, call me at 555 0100", "yes"]):
        s.add(
            Turn(
                conversation_id=conv.id,
                message_id=f"SM{conv.id}x{i}",
                channel="sms",
                text=words,
                intent="pothole",
                confidence=0.4,
                entities=[{"entity": "street", "value": "Elm"}],
                reply="Where on Elm Street?",
                received_at=at,
                replied_at=at,
            )
        )
    if case:
        s.add(
            Case(
                service_request_id=f"311-{conv.id:06d}",
                service_code="PW-POTHOLE",
                service_name="Pothole",
                status=case,
                agency_responsible="DPW",
                description="pothole",
                source="sms",
                conversation_id=conv.id,
                requested_datetime=at,
                updated_datetime=at,
            )
        )
    s.flush()
    return conv


def run(sessions, policy=POLICY, model_dir: Path | None = None, **kw) -> dict[str, int]:
    with sessions() as s:
        return retention.run(
            db_session=s,
            now=kw.pop("now", NOW),
            policy=policy,
            model_dir=model_dir or Path("/nonexistent-model-dir"),
            owner=kw.pop("owner", "test"),
            **kw,
        )


def test_closed_transcripts_are_redacted_after_90_days_recent_ones_kept(sessions):
    with sessions() as s, s.begin():
        old = conversation(s, ended=ago(100)).id
        recent = conversation(s, ended=ago(10), sender="+15550100002").id
        active = conversation(s, ended=None, sender="+15550100003").id
    counts = run(sessions)
    assert counts["transcripts_redacted"] == 1
    with sessions() as s:
        turns = s.scalars(select(Turn).where(Turn.conversation_id == old)).all()
        assert [(t.text, t.reply, t.entities) for t in turns] == [("", "", [])] * 2
        assert [t.intent for t in turns] == ["pothole"] * 2  # statistics stay
        conv = s.get(Conversation, old)
        assert conv.state == {} and conv.sender == "" and conv.redacted_at == NOW
        for kept in (recent, active):
            assert s.get(Conversation, kept).sender.startswith("+1555")
            texts = s.scalars(select(Turn.text).where(Turn.conversation_id == kept)).all()
            assert all(texts)
    assert run(sessions)["transcripts_redacted"] == 0  # done once


def test_a_forgotten_active_conversation_is_closed_and_redacted(sessions):
    with sessions() as s, s.begin():
        conv = conversation(s, ended=None)
        conv.last_activity_at = ago(120)
        conv_id = conv.id
    counts = run(sessions)
    assert counts["conversations_closed_idle"] == 1 and counts["transcripts_redacted"] == 1
    with sessions() as s:
        conv = s.get(Conversation, conv_id)
        assert (conv.status, conv.end_reason, conv.ended_at) == ("closed", "idle", ago(120))


def test_conversations_go_after_365_days_but_not_while_their_case_is_open(sessions):
    with sessions() as s, s.begin():
        gone = conversation(s, ended=ago(400), case="closed")
        kept = conversation(s, ended=ago(400), sender="+15550100002", case="open")
        first_turn = s.scalars(select(Turn).where(Turn.conversation_id == gone.id)).first()
        s.add(TrainingCandidate(turn_id=first_turn.id, text=first_turn.text, source="flagged"))
        s.add(
            OutboundMessage(
                to=gone.sender,
                body="case filed",
                status="sent",
                sent_at=ago(400),
                created_at=ago(400),
                conversation_id=gone.id,
            )
        )
        gone_id, kept_id = gone.id, kept.id
    counts = run(sessions)
    assert counts["conversations_deleted"] == 1 and counts["turns_deleted"] == 2
    with sessions() as s:
        assert s.get(Conversation, gone_id) is None
        assert s.scalars(select(Turn).where(Turn.conversation_id == gone_id)).all() == []
        assert s.scalars(select(TrainingCandidate)).all() == []
        case = s.scalars(select(Case).where(Case.service_request_id == f"311-{gone_id:06d}")).one()
        assert case.conversation_id is None and case.description == "pothole"  # case kept
        message = s.scalars(select(OutboundMessage)).one()
        assert message.conversation_id is None and message.to == "" and message.body == ""
        # an open case keeps its whole conversation: transcript included
        assert s.get(Conversation, kept_id).redacted_at is None
        assert len(s.scalars(select(Turn).where(Turn.conversation_id == kept_id)).all()) == 2


def test_outbound_numbers_and_bodies_are_blanked_30_days_after_sending(sessions):
    def message(s, status: str, created: datetime, sent: datetime | None) -> int:
        m = OutboundMessage(
            to="+15550100009",
            body="Your case 311-000001 is closed.",
            status=status,
            created_at=created,
            sent_at=sent,
            last_error="to +15550100009 failed" if status == "failed" else None,
        )
        s.add(m)
        s.flush()
        return m.id

    with sessions() as s, s.begin():
        old_sent = message(s, "sent", ago(40), ago(40))
        old_failed = message(s, "failed", ago(40), None)
        late_sent = message(s, "sent", ago(40), ago(10))  # queued long ago, sent recently
        recent = message(s, "sent", ago(5), ago(5))
        pending = message(s, "pending", ago(40), None)  # not yet sent: still needed
    assert run(sessions)["outbound_blanked"] == 2
    with sessions() as s:
        for blank in (old_sent, old_failed):
            m = s.get(OutboundMessage, blank)
            assert (m.to, m.body, m.last_error, m.redacted_at) == ("", "", None, NOW)
        for kept in (late_sent, recent, pending):
            assert s.get(OutboundMessage, kept).to == "+15550100009"


def test_login_attempts_go_after_a_day_but_the_limiter_window_is_kept(sessions):
    with sessions() as s, s.begin():
        create_user(db_session=s, username="sam", password="correct horse", role="admin")
        s.add(LoginAttempt(at=ago(2), username="sam", ip="10.0.0.1", success=True))
        for minutes in range(MAX_FAILURES_PER_USER + 1):  # one past the free failures
            s.add(
                LoginAttempt(
                    at=ago(seconds=minutes + 1), username="sam", ip="10.0.0.1", success=False
                )
            )
    # even a policy asking for one minute keeps what the limiter reads (a day of pairs)
    short = retention.Policy(login_attempts=timedelta(minutes=1))
    assert run(sessions, short)["login_attempts_deleted"] == 1
    with sessions() as s, pytest.raises(RateLimited):
        authenticate(db_session=s, username="sam", password="correct horse", ip="10.0.0.1", now=NOW)
    assert (
        run(sessions, now=NOW + timedelta(days=1, minutes=1))["login_attempts_deleted"]
        == MAX_FAILURES_PER_USER + 1
    )


def test_resolved_candidates_go_after_180_days_pending_ones_stay(sessions):
    with sessions() as s, s.begin():
        conv = conversation(s, ended=None)
        turns = s.scalars(select(Turn).where(Turn.conversation_id == conv.id)).all()
        s.add(
            TrainingCandidate(
                turn_id=turns[0].id,
                text="a",
                source="flagged",
                status="discarded",
                created_at=ago(300),
                resolved_at=ago(200),
            )
        )
        s.add(
            TrainingCandidate(
                turn_id=turns[1].id,
                text="b",
                source="low_confidence",
                status="pending",
                created_at=ago(300),
            )
        )
    assert run(sessions)["candidates_deleted"] == 1
    with sessions() as s:
        assert [c.text for c in s.scalars(select(TrainingCandidate))] == ["b"]


def test_redaction_blanks_the_candidates_of_redacted_turns(sessions):
    with sessions() as s, s.begin():
        conv = conversation(s, ended=ago(100))
        turn = s.scalars(select(Turn).where(Turn.conversation_id == conv.id)).first()
        s.add(TrainingCandidate(turn_id=turn.id, text=turn.text, source="low_confidence"))
    run(sessions)
    with sessions() as s:
        candidate = s.scalars(select(TrainingCandidate)).one()
        assert (candidate.text, candidate.status, candidate.resolved_by) == (
            "",
            "expired",
            "retention",
        )


def test_old_model_versions_lose_their_files_active_and_last_five_keep_them(sessions, tmp_path):
    model_dir = tmp_path / "models"
    outside = tmp_path / "cache" / "nlu-abc.tar.gz"  # `make run`'s cached model: not ours
    outside.parent.mkdir()
    outside.write_bytes(b"model")
    with sessions() as s, s.begin():
        for n in range(1, 10):
            folder = model_dir / f"v{n}"
            (folder / "eval").mkdir(parents=True)
            (folder / "model.tar.gz").write_bytes(b"model")
            (model_dir / f"eval-v{n}").mkdir()
            path = outside if n == 1 else folder / "model.tar.gz"
            s.add(
                ModelVersion(
                    id=n,
                    created_by="ada",
                    status="failed" if n == 6 else "trained",
                    model_path=str(path),
                    log_path=str(folder / "train.log"),
                    active=n == 2,
                    created_at=ago(100 - n),
                )
            )
    counts = run(sessions, model_dir=model_dir)
    assert counts["model_versions_pruned"] == 2  # v1 and v3; v2 is active; v4..v9 the newest
    with sessions() as s:
        pruned = {v.id for v in s.scalars(select(ModelVersion)) if v.files_deleted_at}
        assert pruned == {1, 3}
        assert s.get(ModelVersion, 3).model_path is None
    assert not (model_dir / "v3").exists() and not (model_dir / "eval-v3").exists()
    assert not (model_dir / "v1").exists()
    assert outside.exists()  # a file outside the model folder is never deleted
    for kept in (2, 4, 5, 6, 7, 8, 9):
        assert (model_dir / f"v{kept}" / "model.tar.gz").exists()


def test_model_versions_are_kept_per_language(sessions, tmp_path):
    """Eight English trainings leave the two Spanish versions (and so a Spanish rollback) alone."""
    model_dir = tmp_path / "models"
    with sessions() as s, s.begin():
        for n in range(1, 11):
            folder = model_dir / f"v{n}"
            folder.mkdir(parents=True)
            (folder / "model.tar.gz").write_bytes(b"model")
            s.add(
                ModelVersion(
                    id=n,
                    created_by="ada",
                    status="trained",
                    model_path=str(folder / "model.tar.gz"),
                    language="es" if n in (1, 2) else "en",
                    active=n in (2, 3),
                    created_at=ago(100 - n),
                )
            )
    counts = run(sessions, model_dir=model_dir)
    assert counts["model_versions_pruned"] == 2  # en: v4, v5 (v3 active; v6..v10 the newest)
    with sessions() as s:
        assert {v.id for v in s.scalars(select(ModelVersion)) if v.files_deleted_at} == {4, 5}


def test_each_run_is_audited_once_with_its_counts(sessions):
    with sessions() as s, s.begin():
        conversation(s, ended=ago(100))
    run(sessions)
    run(sessions, now=NOW + timedelta(hours=1))
    with sessions() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).all()
    assert [e.actor_name for e in entries] == ["retention", "retention"]
    assert entries[0].detail["counts"]["transcripts_redacted"] == 1
    assert entries[1].detail["counts"]["transcripts_redacted"] == 0
    assert entries[0].detail["policy"]["transcripts_days"] == 90


def test_a_second_concurrent_run_is_refused_by_the_lock(sessions):
    with sessions() as s, s.begin():
        conversation(s, ended=ago(100))
    with sessions() as s, s.begin():  # another machine is mid-run
        assert locks.acquire(
            db_session=s,
            name=retention.JOB,
            owner="machine-b",
            now=NOW,
            lease=timedelta(minutes=15),
        )
    with pytest.raises(retention.RetentionBusy, match="machine-b"):
        run(sessions, owner="machine-a")
    with sessions() as s:
        assert s.scalars(select(Turn.text)).first() != ""  # nothing done
        assert s.scalars(select(AuditEntry)).all() == []
    # a lease not renewed (the other machine died) expires; then this one may run
    assert (
        run(sessions, owner="machine-a", now=NOW + timedelta(minutes=16))["transcripts_redacted"]
        == 1
    )
    with sessions() as s:
        job = s.get(locks.JobRun, retention.JOB)
        assert job.locked_until is None and job.last_finished_at is not None


def test_a_scheduled_run_waits_for_its_interval_across_machines(sessions):
    every = timedelta(hours=1)
    run(sessions, owner="machine-a", every=every)
    with pytest.raises(retention.RetentionBusy, match="not due"):
        run(sessions, owner="machine-b", every=every, now=NOW + timedelta(minutes=30))
    run(sessions, owner="machine-b", every=every, now=NOW + timedelta(minutes=61))
    with sessions() as s:
        job = s.get(locks.JobRun, retention.JOB)
        assert job.last_started_at == NOW + timedelta(minutes=61)


def test_work_is_done_in_bounded_batches_each_its_own_transaction(sessions):
    with sessions() as s, s.begin():
        for i in range(7):
            s.add(LoginAttempt(at=ago(3), username=f"u{i}", ip="10.0.0.1", success=False))
    log: list[str] = []
    with sessions() as s:
        engine = s.get_bind()

        def capture(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.startswith(("DELETE FROM login_attempts", "BEGIN")):
                log.append(statement.split(" WHERE")[0])

        event.listen(engine, "before_cursor_execute", capture)
        counts = run(sessions, retention.Policy(batch_size=3))
        event.remove(engine, "before_cursor_execute", capture)
    assert counts["login_attempts_deleted"] == 7
    deletes = [i for i, line in enumerate(log) if line.startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1 rows
    for a, b in pairwise(deletes):
        assert "BEGIN IMMEDIATE" in log[a + 1 : b]  # a new transaction for every batch


def test_dry_run_counts_without_changing_anything(sessions):
    with sessions() as s, s.begin():
        conversation(s, ended=ago(100))
        s.add(LoginAttempt(at=ago(3), username="x", ip="10.0.0.1", success=False))
    with sessions() as s:
        counts = retention.preview(db_session=s, now=NOW, policy=POLICY)
    assert counts["transcripts_redacted"] == 1 and counts["login_attempts_deleted"] == 1
    with sessions() as s:
        assert s.scalars(select(LoginAttempt)).all() != []
        assert s.scalars(select(AuditEntry)).all() == []


def test_a_disabled_rule_keeps_everything(sessions):
    with sessions() as s, s.begin():
        conversation(s, ended=ago(1000), case="closed")
    counts = run(sessions, retention.Policy(transcripts=None, conversations=None))
    assert counts["transcripts_redacted"] == counts["conversations_deleted"] == 0


def test_cli_runs_the_job_prints_counts_and_reports_a_held_lock(settings, tmp_path):
    from dataclasses import replace

    app = create_app(replace(settings, model_dir=tmp_path / "models"), nlu=FakeNLU())
    sessions = app.extensions["civicline"].Session
    with sessions() as s, s.begin():
        s.add(
            LoginAttempt(
                at=datetime.now(UTC) - timedelta(days=3), username="x", ip="1", success=False
            )
        )
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "login_attempts_deleted: 1" in dry.output and "dry run" in dry.output
    with sessions() as s:
        assert len(s.scalars(select(LoginAttempt)).all()) == 1
    done = runner.invoke(args=["retention", "run"])
    assert done.exit_code == 0, done.output
    assert "login_attempts_deleted: 1" in done.output
    with sessions() as s:
        assert s.scalars(select(LoginAttempt)).all() == []
        assert s.scalars(select(AuditEntry.actor_name)).all() == ["retention"]
    with sessions() as s, s.begin():
        locks.acquire(
            db_session=s,
            name=retention.JOB,
            owner="elsewhere",
            now=datetime.now(UTC),
            lease=timedelta(minutes=15),
        )
    busy = runner.invoke(args=["retention", "run"])
    assert busy.exit_code != 0 and "elsewhere" in busy.output
    app.extensions["civicline"].db.dispose()


def test_two_scheduled_workers_on_one_database_run_the_job_once(database_url, sessions, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from settings import ROOT

    env = dict(os.environ, DATABASE_URL=database_url, CIVICLINE_MODEL_DIR=str(tmp_path / "m"))
    workers = [
        subprocess.Popen([sys.executable, "-m", "cases.retention_worker"], cwd=ROOT, env=env)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sessions() as s:
                job = s.get(locks.JobRun, retention.JOB)
                if job is not None and job.last_finished_at is not None:
                    break
            time.sleep(0.2)
        time.sleep(2)  # both have checked by now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(10) for worker in workers]
    assert codes == [0, 0]
    with sessions() as s:
        runs = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).all()
    assert len(runs) == 1 and runs[0].actor_name == "retention"


def test_console_shows_a_redacted_transcript_as_redacted(settings):
    from tests.console_helpers import add_staff, sign_in

    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    rt = app.extensions["civicline"]
    add_staff(rt)
    now = datetime.now(UTC)
    with rt.Session() as s, s.begin():
        conv_id = conversation(s, ended=now - timedelta(days=100)).id
        s.add(
            OutboundMessage(
                to="+15550100001",
                body="staff said hi",
                status="sent",
                reason="staff_reply",
                conversation_id=conv_id,
                created_at=now - timedelta(days=100),
                sent_at=now - timedelta(days=100),
            )
        )
    with rt.Session() as s:
        retention.run(db_session=s, now=now, policy=POLICY, model_dir=Path("/x"), owner="t")
    client = app.test_client()
    assert sign_in(client, "ada").status_code == 302
    page = client.get(f"/console/conversations/{conv_id}").get_data(as_text=True)
    assert "(redacted)" in page and "redacted " in page and "elm st" not in page
    assert "staff said hi" not in page and "blanked under the retention policy" in page
    assert "Flag</button>" not in page
    rt.db.dispose()
