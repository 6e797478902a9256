"""Admin jobs off the request path: activation is desired state rolled out by a reconciler.

The console only records the rollout job, claims the lock (`job_locks`, a conditional UPDATE
that holds across machines) and writes the wanted version; the machine's reconciler loads its
replicas one at a time, each out of rotation while it loads, each outcome recorded. A second
activation is refused while one runs; a replica that fails to load sends the fleet back to the
active version. Real SQLite (and PostgreSQL for the lock race), real Rasa servers.
"""

from __future__ import annotations

import json
import os
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
from cases.admin_models import AuditEntry
from cases.db import make_engine, make_session_factory
from cases.fleet_models import NluTarget
from cases.job_models import Job, JobLock
from cases.migrate import upgrade
from cases.models import utcnow
from cases.nlu_models import ModelVersion
from cases.users import create_user
from nlu import activation, fleet, versions
from nlu.model_store import local_copy, save_model
from nlu.reconcile import Reconciler
from tests.console_helpers import PASSWORD, add_staff, csrf, sign_in
from tests.fleet_helpers import reconciling

LONG_AGO = timedelta(hours=1)


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


# --- activation against real Rasa servers and a reconciler ----------------------------------


@pytest.fixture
def pair(rasa_pair):
    """The session's two Rasa replicas."""
    return rasa_pair


def files(rt, urls=None) -> dict[str, str]:
    """The model file each replica serves."""
    return {url: rt.nlu.status(url)["model_file"] for url in urls or rt.nlu.urls}


@pytest.fixture
def world(settings, pair, rasa_model, tmp_path):
    """An app served by the pair: version 1 active and served, version 2 trained (same bytes)."""
    app_settings = replace(
        settings,
        model_dir=tmp_path / "models",
        rasa_url=",".join(s.url for s in pair),
        rasa_token=pair[0].token,
        secret_key="jobs",
        machine="m1",
    )
    app = create_app(app_settings)
    rt = app.extensions["civicline"]
    add_staff(rt)
    cache = tmp_path / "models" / "cache"
    with rt.Session() as s, s.begin():
        create_user(db_session=s, username="bea", password=PASSWORD, role="admin")
        versions.register_served(db_session=s, model_path=rasa_model, fp="served")
        v2 = ModelVersion(created_by="ada", status="trained", progress=100, fingerprint="v2")
        s.add(v2)
        s.flush()
        save_model(db_session=s, version=v2, path=rasa_model)
        v1_copy = local_copy(db_session=s, version_id=1, cache_dir=cache)
    for url, name in files(rt).items():  # every test starts with both replicas on version 1
        if name != v1_copy.name:
            rt.nlu.load_model(url, str(v1_copy))
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    yield app, rt, admin, cache
    rt.db.dispose()


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
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish: {job.status} {job.progress}")


def test_activating_needs_a_reporting_replica(world):
    _, rt, admin, _ = world
    page = admin.get(activate(admin, 2).headers["Location"]).get_data(as_text=True)
    assert "no English Rasa server is reporting" in page
    with rt.Session() as s:
        assert s.scalars(select(Job)).all() == []


def test_two_admins_activating_at_once_get_one_job_and_a_clear_refusal(world):
    app, rt, ada, cache = world
    served = files(rt)
    Reconciler(
        sessions=rt.Session,
        machine="m1",
        replicas={"en": rt.nlu.urls},
        token=rt.nlu.token,
        cache_dir=cache,
    ).step()  # the replicas report in; no reconciler runs after this
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
        assert s.get(NluTarget, "en").version_id == 2 and s.get(NluTarget, "en").job_id == job.id
    # pressing again, and the CLI, meet the same lock; nothing was loaded by any request
    refused = activate(ada, 2)
    assert refused.status_code == 303
    assert "one activation at a time" in ada.get(refused.headers["Location"]).get_data(as_text=True)
    cli = app.test_cli_runner().invoke(args=["nlu", "activate", "2"])
    assert cli.exit_code != 0 and "one activation at a time" in cli.output
    assert files(rt) == served


def test_activation_returns_at_once_and_the_reconciler_rolls_it_out(world):
    _, rt, admin, cache = world
    a, b = rt.nlu.urls
    with reconciling(rt.Session, {"en": [a, b]}, token=rt.nlu.token, cache_dir=cache):
        resp = activate(admin, 2)  # returns before any replica is out of rotation (drain 0.6 s)
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/admin/models")
        with rt.Session() as s:
            job = s.scalars(select(Job)).one()
            assert (job.kind, job.status, job.target_id, job.created_by) == (
                "activate",
                "running",
                2,
                "ada",
            )
            names = sorted([f"test-machine {a}", f"test-machine {b}"])  # as the store lists them
            assert job.detail["intent"] == (
                f"activating version 2: replicas {', '.join(names)}; previous version 1"
            )
            assert versions.active(db_session=s).id == 1
        assert set(files(rt).values()) == {"v1.tar.gz"}
        job = wait_finished(rt, job.id)
    assert job.status == "done", (job.error, job.progress)
    assert job.progress == dict.fromkeys(names, "loaded")
    assert set(files(rt).values()) == {"v2.tar.gz"}
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 2
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate")).one()
        assert entry.actor_name == "ada" and entry.detail["job"] == job.id
        assert entry.detail["previous"] == 1
        assert jobs.holder(db_session=s, name=activation.LOCK) is None
        rows = {r.url: (r.state, r.version_id) for r in fleet.everyone(db_session=s)}
        assert rows == {a: ("serving", 2), b: ("serving", 2)}
    page = admin.get("/console/admin/models").get_data(as_text=True)
    assert "Activated version 2" in page and 'id="fleet"' in page and "test-machine" in page


class StubReplica(BaseHTTPRequestHandler):
    """A replica that reports version 1 loaded and records every load; `fail` loads fail."""

    fail = False
    loads: list[str] = []

    def do_GET(self) -> None:
        body = json.dumps({"model_file": "v1.tar.gz", "model_id": "stub"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # the warm-up parse

    def do_PUT(self) -> None:
        model = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.loads.append(model["model_file"])
        self.send_response(500 if self.fail else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class BrokenReplica(StubReplica):
    """A replica whose every load fails (a full disk, say)."""

    fail = True
    loads: list[str] = []


def stub(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_a_replica_failing_to_load_sends_the_fleet_back_and_leaves_the_rest_untouched(world):
    _, rt, _, cache = world
    good = rt.nlu.urls[0]
    broken, bad = stub(BrokenReplica)
    later, untouched = stub(StubReplica)
    urls = {"en": [good, bad, untouched]}
    try:
        with reconciling(rt.Session, urls, token=rt.nlu.token, cache_dir=cache):
            result = (
                create_app(replace(rt.settings, rasa_url=",".join(urls["en"])))
                .test_cli_runner()
                .invoke(args=["nlu", "activate", "2", "--wait", "120"])
            )
            assert result.exit_code != 0 and f"test-machine {bad}" in result.output
            deadline = time.monotonic() + 60  # the good replica follows the fleet back
            while files(rt, [good])[good] != "v1.tar.gz" and time.monotonic() < deadline:
                time.sleep(0.3)
    finally:
        broken.shutdown()
        later.shutdown()
    assert files(rt, [good])[good] == "v1.tar.gz"
    assert StubReplica.loads == []  # never touched: it was after the failing one
    assert len(BrokenReplica.loads) == 2  # version 2, then its own version 1 back
    with rt.Session() as s:
        job = s.scalars(select(Job)).one()
        assert job.status == "failed" and job.created_by == "cli"
        assert job.progress[f"test-machine {good}"] == "loaded"
        assert job.progress[f"test-machine {bad}"] == "failed"
        assert job.progress[f"test-machine {untouched}"] == "waiting"
        assert "the fleet goes back to version 1" in job.result
        assert versions.active(db_session=s).id == 1
        assert s.get(NluTarget, "en").version_id == 1
        assert jobs.holder(db_session=s, name=activation.LOCK) is None
        row = {r.url: r for r in fleet.everyone(db_session=s)}[bad]
        assert (row.state, row.version_id) == ("serving", 1)  # Rasa kept its model: back in
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate.failed"))
        assert "500 Server Error" in failed.one().detail["error"]


def test_a_rollout_no_machine_reports_on_is_given_up_by_the_next_activation(world):
    _, rt, _, cache = world
    rec = Reconciler(
        sessions=rt.Session,
        machine="m1",
        replicas={"en": rt.nlu.urls},
        token=rt.nlu.token,
        cache_dir=cache,
    )
    rec.step()
    then = utcnow() - timedelta(seconds=5)
    with rt.Session() as s, s.begin():
        job = activation.enqueue(db_session=s, version_id=2, user=None, now=then)
        job_id = job.id
    later = then + timedelta(minutes=2)  # nobody reported on it since
    with rt.Session() as s, s.begin():
        for row in fleet.everyone(db_session=s):
            row.seen_at = later
        again = activation.enqueue(db_session=s, version_id=2, user=None, now=later)
        assert again.id != job_id
        stalled = s.get(Job, job_id)
        assert stalled.status == "failed" and "stalled" in stalled.error
        assert s.scalars(
            select(AuditEntry).where(AuditEntry.action == "nlu.activate.stalled")
        ).one()
