"""Admin jobs off the request path: activation runs as a recorded job under a database lock.

The console only records the intent and claims the lock (`job_locks`, a conditional UPDATE that
holds across machines); the replicas are loaded by a separate process, one at a time, each
outcome recorded. A second activation is refused while one runs, and an activation whose process
died half-way is rolled back to the recorded version when the app next starts. Real SQLite (and
PostgreSQL for the lock race), two real Rasa servers; few real model loads (each takes seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app import create_app
from cases import jobs
from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import AuditEntry, Job, JobLock, ModelVersion, utcnow
from cases.users import create_user
from nlu import activation, versions
from nlu.server import RasaServer
from tests.console_helpers import PASSWORD, add_staff, csrf, sign_in

LONG_AGO = timedelta(hours=1)
REAL_LAUNCH = activation.launch  # kept before any test replaces it


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# --- the lock and the liveness rules, without Rasa -------------------------------------------


@pytest.fixture(scope="module")
def postgres_url():
    from tests.postgres_server import PostgresServer

    server = PostgresServer().start()
    upgrade(server.url)
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, database_url):
    """A session factory on SQLite, or on a real PostgreSQL server."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else database_url
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        s.execute(JobLock.__table__.delete())
        s.execute(Job.__table__.delete())
    yield factory
    engine.dispose()


def test_two_processes_racing_for_a_lock_get_it_once(sessions):
    barrier = threading.Barrier(4)

    def contender(n: int) -> int | None:
        barrier.wait()  # (SQLite then queues the transactions; PostgreSQL runs them together)
        with sessions() as s, s.begin():
            job = Job(kind="activate", lock_name="race", created_by=f"admin{n}")
            s.add(job)
            s.flush()
            won = jobs.claim(db_session=s, name="race", job_id=job.id)
            time.sleep(0.3)  # hold the transaction open while the others try
            return job.id if won else None

    with ThreadPoolExecutor(4) as pool:
        winners = [w for w in pool.map(contender, range(4)) if w is not None]
    assert len(winners) == 1
    with sessions() as s:
        assert jobs.holder(db_session=s, name="race").id == winners[0]
        s.rollback()
    with sessions() as s, s.begin():  # only the holder can release it
        assert not jobs.release(db_session=s, name="race", job_id=winners[0] + 1000)
        assert jobs.release(db_session=s, name="race", job_id=winners[0])
        assert jobs.holder(db_session=s, name="race") is None


def test_a_dead_job_is_taken_over_by_one_process_only(sessions):
    with sessions() as s, s.begin():
        job = jobs.create_job(db_session=s, kind="activate", lock="adopt", now=utcnow() - LONG_AGO)
        job_id = job.id
    barrier = threading.Barrier(3)

    def adopter(_: int) -> bool:
        barrier.wait()
        with sessions() as s, s.begin():
            job = s.get(Job, job_id)
            why = jobs.dead_reason(job)
            time.sleep(0.2)  # every adopter has read the job as dead before any writes
            return why is not None and jobs.take_over(db_session=s, job=job, why=why) is not None

    with ThreadPoolExecutor(3) as pool:
        assert sorted(pool.map(adopter, range(3))) == [False, False, True]
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "running" and job.lease == 1
        assert "no heartbeat" in job.detail["interrupted"]


def test_a_job_is_dead_when_its_heartbeat_is_stale_or_its_process_is_gone():
    now = utcnow()
    here = jobs.this_host()
    alive = Job(status="running", host=here, pid=os.getpid(), heartbeat_at=now, created_at=now)
    assert jobs.dead_reason(alive, now) is None
    gone = Job(status="running", host=here, pid=dead_pid(), heartbeat_at=now, created_at=now)
    assert "is gone" in jobs.dead_reason(gone, now)  # no need to wait for the heartbeat
    elsewhere = Job(status="running", host="web-2.example", pid=1, heartbeat_at=now, created_at=now)
    assert jobs.dead_reason(elsewhere, now) is None  # another machine's pid tells us nothing
    assert "no heartbeat" in jobs.dead_reason(elsewhere, now + timedelta(minutes=5))
    never = Job(status="queued", heartbeat_at=now - LONG_AGO, created_at=now - LONG_AGO)
    assert "no heartbeat" in jobs.dead_reason(never, now)  # launched but never started
    assert jobs.dead_reason(Job(status="done", created_at=now - LONG_AGO), now) is None


def test_a_runner_presumed_dead_cannot_write_after_its_job_was_taken_over(db_session):
    with db_session.begin():
        job_id = jobs.create_job(db_session=db_session, kind="activate", lock="fence").id
    with db_session.begin():
        lease = jobs.start(db_session=db_session, job_id=job_id)
    with db_session.begin():  # it stalls (a paused VM, say) and another machine adopts the job
        job = db_session.get(Job, job_id)
        job.heartbeat_at, job.host = utcnow() - LONG_AGO, "web-2.example"
    with db_session.begin():
        job = db_session.get(Job, job_id)
        assert jobs.take_over(db_session=db_session, job=job, why=jobs.dead_reason(job))
    with pytest.raises(jobs.JobLost), db_session.begin():  # the stalled runner wakes up
        jobs.finish(db_session=db_session, lease=lease, status="done")
    assert lease.lost.is_set()
    db_session.expire_all()
    assert db_session.get(Job, job_id).status == "running"  # still its adopter's


def test_training_holds_the_database_lock_and_a_dead_training_is_noticed_at_once(db_session):
    with db_session.begin():
        first = versions.start_training(db_session=db_session, user=None, epochs=3)
        assert jobs.holder(db_session=db_session, name=versions.TRAIN_LOCK).target_id == first.id
    with pytest.raises(versions.VersionError, match="one training at a time"), db_session.begin():
        versions.start_training(db_session=db_session, user=None, epochs=3)
    with db_session.begin():  # its process dies (the machine's pid is gone); no 30-minute wait
        job = jobs.holder(db_session=db_session, name=versions.TRAIN_LOCK)
        job.status, job.host, job.pid = "running", jobs.this_host(), dead_pid()
    with db_session.begin():
        second = versions.start_training(db_session=db_session, user=None, epochs=3)
    db_session.expire_all()
    assert db_session.get(ModelVersion, first.id).status == "failed"
    assert "is gone" in db_session.get(ModelVersion, first.id).error
    assert jobs.holder(db_session=db_session, name=versions.TRAIN_LOCK).target_id == second.id


# --- activation against two real Rasa servers --------------------------------------------------


@pytest.fixture(scope="module")
def pair(rasa_model, tmp_path_factory):
    """Two Rasa servers (replicas) with the current model, sharing a token."""
    logs = tmp_path_factory.mktemp("rasa-jobs")
    servers = [
        RasaServer(rasa_model, token="jobs-token", log_path=logs / f"{i}.log").spawn()
        for i in range(2)
    ]
    for server in servers:
        server.wait_ready(240)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def v2_model(rasa_model, tmp_path_factory):
    """Version 2's model: the served model under another file name (Rasa reports the name)."""
    path = tmp_path_factory.mktemp("v2") / "civicline-v2.tar.gz"
    shutil.copy(rasa_model, path)
    return path


def files(rt) -> dict[str, str]:
    """The model file each replica serves."""
    return {url: rt.nlu.status(url)["model_file"] for url in rt.nlu.urls}


@pytest.fixture
def world(settings, pair, rasa_model, v2_model, tmp_path):
    """An app served by the pair, with version 1 active (the served model) and version 2 trained."""
    app_settings = replace(
        settings,
        model_dir=tmp_path / "models",
        rasa_url=",".join(s.url for s in pair),
        rasa_token=pair[0].token,
        secret_key="jobs",
    )
    app = create_app(app_settings)
    rt = app.extensions["civicline"]
    add_staff(rt)
    with rt.Session() as s, s.begin():
        create_user(db_session=s, username="bea", password=PASSWORD, role="admin")
        versions.register_served(db_session=s, model_path=rasa_model, fp="served")
        s.add(
            ModelVersion(
                created_by="ada",
                status="trained",
                progress=100,
                model_path=str(v2_model),
                fingerprint="v2",
                finished_at=utcnow(),
            )
        )
    for url, name in files(rt).items():  # every test starts with both replicas on version 1
        if name != rasa_model.name:
            rt.nlu.load_model(url, str(rasa_model))
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    yield app, rt, admin, app_settings
    rt.db.dispose()


@pytest.fixture
def launched(monkeypatch):
    """Record what the console would start in the background, instead of starting it."""
    calls: list[tuple] = []
    monkeypatch.setattr(activation, "launch", lambda *a, **k: calls.append((a, k)))
    return calls


def activate(client, version_id: int, **form):
    token = csrf(client, f"/console/admin/models/{version_id}")
    return client.post(
        f"/console/admin/models/{version_id}/activate", data={"csrf_token": token, **form}
    )


def wait_finished(rt, job_id: int, timeout: float = 180) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.Session() as s:
            job = s.get(Job, job_id)
        if job.status in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job.status} {job.progress}")


def test_two_admins_activating_at_once_get_one_job_and_a_clear_refusal(world, launched):
    app, rt, ada, _ = world
    served = files(rt)
    bea = app.test_client()
    assert sign_in(bea, "bea").status_code == 302
    barrier = threading.Barrier(2)

    def press(client):
        token = csrf(client, "/console/admin/models/2")
        barrier.wait()
        return client.post(
            "/console/admin/models/2/activate", data={"csrf_token": token}, follow_redirects=True
        ).get_data(as_text=True)

    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(press, [ada, bea]))
    assert sum("Activating version 2" in p for p in pages) == 1
    assert sum("one activation at a time" in p for p in pages) == 1
    with rt.Session() as s:
        [job] = s.scalars(select(Job)).all()
    assert len(launched) == 1 and launched[0][0][0] == ["run", str(job.id)]
    # pressing again, and the CLI, meet the same lock
    refused = activate(ada, 2)
    assert refused.status_code == 303
    assert "one activation at a time" in ada.get(refused.headers["Location"]).get_data(as_text=True)
    cli = app.test_cli_runner().invoke(args=["nlu", "activate", "2"])
    assert cli.exit_code != 0 and "one activation at a time" in cli.output
    assert files(rt) == served and len(launched) == 1


class BrokenReplica(BaseHTTPRequestHandler):
    """A replica that answers /status but fails to load any model (a full disk, say)."""

    def do_GET(self) -> None:
        body = json.dumps({"model_file": "old.tar.gz", "model_id": "broken"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_replica_failing_half_way_rolls_the_others_back_cli(world, rasa_model):
    _, rt, _, app_settings = world
    broken = ThreadingHTTPServer(("127.0.0.1", 0), BrokenReplica)
    threading.Thread(target=broken.serve_forever, daemon=True).start()
    good = rt.nlu.urls[0]
    bad = f"http://127.0.0.1:{broken.server_address[1]}"
    app = create_app(replace(app_settings, rasa_url=f"{good},{bad}"))
    try:
        result = app.test_cli_runner().invoke(args=["nlu", "activate", "2"])
    finally:
        broken.shutdown()
        app.extensions["civicline"].db.dispose()
    assert result.exit_code != 0 and bad in result.output
    with rt.Session() as s:
        job = s.scalars(select(Job)).one()
        assert job.status == "failed" and job.created_by == "cli"
        assert job.progress[good] == "restored" and job.progress[bad] != "loaded"
        assert "rolled back to version 1" in job.result
        assert versions.active(db_session=s).id == 1
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate.failed")).one()
        assert jobs.holder(db_session=s, name=activation.LOCK) is None
    assert rt.nlu.status(good)["model_file"] == rasa_model.name


class SlowReplica(BrokenReplica):
    """A replica that takes forever to load version 2 (and loads anything else at once)."""

    loads: list[str] = []

    def do_PUT(self) -> None:
        model = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.loads.append(model["model_file"])
        if "civicline-v2" in model["model_file"]:
            time.sleep(60)
        self.send_response(204)
        self.end_headers()


def test_a_runner_killed_between_replicas_is_rolled_back_before_the_next_activation(
    world, rasa_model, v2_model
):
    _, rt, _, app_settings = world
    slow = ThreadingHTTPServer(("127.0.0.1", 0), SlowReplica)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    real = rt.nlu.urls[0]
    stub = f"http://127.0.0.1:{slow.server_address[1]}"
    app = create_app(replace(app_settings, rasa_url=f"{real},{stub}"))
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    try:
        assert activate(admin, 2).status_code == 303  # the real job process starts
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with rt.Session() as s:
                job = s.scalars(select(Job)).one()
            if job.progress.get(stub) == "loading":
                break
            time.sleep(0.2)
        assert job.progress == {real: "loaded", stub: "loading"}
        assert rt.nlu.status(real)["model_file"] == v2_model.name
        os.kill(job.pid, 9)  # the runner dies between replicas (it stays a zombie: our child)

        refused = activate(admin, 2)  # the next activation finds it dead at once (pid gone)
        assert "was interrupted" in admin.get(refused.headers["Location"]).get_data(as_text=True)
        job = wait_finished(rt, job.id, timeout=60)
    finally:
        slow.shutdown()
        app.extensions["civicline"].db.dispose()
    assert job.status == "failed" and "is gone" in job.error
    assert job.progress == {real: "restored", stub: "restored"}
    assert rt.nlu.status(real)["model_file"] == rasa_model.name
    assert SlowReplica.loads == [str(v2_model), str(rasa_model)]
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 1
        assert jobs.holder(db_session=s, name=activation.LOCK) is None


def test_a_killed_activation_is_rolled_back_when_the_app_starts(
    world, launched, monkeypatch, rasa_model, v2_model
):
    _, rt, admin, app_settings = world
    a, b = rt.nlu.urls
    # a worker on another machine recorded its intent, switched replica A, then was killed
    rt.nlu.load_model(a, str(v2_model))
    then = utcnow() - LONG_AGO
    with rt.Session() as s, s.begin():
        job = jobs.create_job(
            db_session=s,
            kind="activate",
            lock=activation.LOCK,
            target_id=2,
            created_by="ada",
            detail={
                "intent": f"activating version 2: replicas {a}, {b}; previous version 1",
                "version": 2,
                "model": str(v2_model),
                "previous": 1,
                "previous_model": str(rasa_model),
                "replicas": [a, b],
                "reason": "",
                "rollback": False,
            },
            progress={a: "loaded", b: "waiting"},
            now=then,
        )
        job.status, job.started_at, job.lease = "running", then, 1
        job.host, job.pid = "web-2.example", 4242
        job_id = job.id
    assert set(files(rt).values()) == {rasa_model.name, v2_model.name}  # replicas disagree

    # a new activation first meets the dead one: refused, and its recovery is started
    refused = activate(admin, 2)
    assert refused.status_code == 303
    page = admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert "was interrupted" in page
    assert [call[0][0] for call in launched] == [["recover"]]

    monkeypatch.undo()  # from here on, background jobs really start
    restarted = create_app(app_settings)  # the app starts again and finds the dead activation
    try:
        job = wait_finished(rt, job_id)
    finally:
        restarted.extensions["civicline"].db.dispose()
    assert set(files(rt).values()) == {rasa_model.name}  # one version everywhere: the recorded one
    assert job.status == "failed" and "no heartbeat since" in job.error
    assert job.progress == {a: "restored", b: "waiting"}
    assert "rolled back to version 1" in job.result and job.detail["interrupted"]
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 1
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "nlu.activate.recovered")
        ).one()
        assert entry.detail["job"] == job_id and entry.detail["restored_to"] == 1
        assert jobs.holder(db_session=s, name=activation.LOCK) is None
    models = admin.get("/console/admin/models").get_data(as_text=True)
    assert "rolled back to version 1" in models


def test_activation_returns_at_once_and_runs_outside_the_request(
    world, launched, rasa_model, v2_model
):
    _, rt, admin, _ = world
    served = files(rt)
    a, b = rt.nlu.urls
    resp = activate(admin, 2)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/admin/models")
    # the job and its intent are recorded, and no replica was touched by the request
    with rt.Session() as s:
        job = s.scalars(select(Job)).one()
        assert (job.kind, job.status, job.target_id, job.created_by) == (
            "activate",
            "queued",
            2,
            "ada",
        )
        intent = f"activating version 2: replicas {a}, {b}; previous version 1"
        assert job.detail["intent"] == intent
        assert job.progress == {a: "waiting", b: "waiting"}
        assert versions.active(db_session=s).id == 1
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate.queued")).one()
    assert files(rt) == served
    page = admin.get("/console/admin/models").get_data(as_text=True)
    assert "activating version 2" in page and "waiting" in page and 'id="activation"' in page

    # what the console launched runs in its own process, replica by replica
    [(args, kwargs)] = launched
    assert args[0] == ["run", str(job.id)]
    proc = REAL_LAUNCH(*args, **kwargs)
    assert proc.wait(180) == 0
    state = admin.get(f"/console/admin/jobs/{job.id}/progress").get_json()
    assert state["status"] == "done", state
    assert state["progress"] == {a: "loaded", b: "loaded"}
    assert set(files(rt).values()) == {v2_model.name}
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 2
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate")).one()
        assert entry.actor_name == "ada" and entry.detail["job"] == job.id
        assert entry.detail["previous"] == 1
        assert jobs.holder(db_session=s, name=activation.LOCK) is None
    assert "Activated version 2" in admin.get("/console/admin/models").get_data(as_text=True)
