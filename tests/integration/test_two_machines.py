"""Two app machines sharing one PostgreSQL (the store and the artifact store), nothing else.

Each instance has its own working directory and var/ folder, its own gunicorn, its own
reconciler process and its own Rasa server, as two machines behind a load balancer would. An
admin edits an example and trains on A (B refuses a second training meanwhile); activating on
A reaches B's Rasa server while residents text both machines without a failure; rolling back
on B reaches A; a machine killed in the middle of a rollout does not hold it up, and catches up
when it comes back.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from cases.admin_models import AuditEntry
from cases.db import make_engine, make_session_factory
from cases.fleet_models import RasaReplica
from cases.job_models import Job
from cases.migrate import upgrade
from cases.nlu_models import ModelVersion, TrainingExample
from cases.users import create_user
from nlu import versions
from nlu.model_store import local_copy
from nlu.server import free_port
from scripts.chat import send
from scripts.web import start_gunicorn, wait_healthy
from settings import ROOT
from tests.console_helpers import PASSWORD

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
TOKEN = "two-machines-token"


@dataclass
class Machine:
    """One simulated app machine: its folder, its processes, its Rasa server."""

    name: str
    home: Path
    rasa: object
    env: dict[str, str] = field(default_factory=dict)
    web: subprocess.Popen | None = None
    reconciler: subprocess.Popen | None = None
    base: str = ""

    def start_reconciler(self) -> None:
        log = (self.home / "var" / "reconcile.log").open("ab")
        self.reconciler = subprocess.Popen(
            [sys.executable, "-m", "nlu.reconcile"],
            cwd=self.home,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        self.web = start_gunicorn(self.env, quiet=True, cwd=self.home)
        self.start_reconciler()
        assert wait_healthy(self.base, self.web), f"{self.name} did not start"

    def kill(self) -> None:
        for proc in (self.reconciler, self.web):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()

    def serves(self) -> str:
        return self.rasa.client().status()["model_file"]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def postgres():
    from tests.postgres_server import PostgresServer

    server = PostgresServer().start()
    upgrade(server.url)
    yield server.url
    server.stop()


@pytest.fixture
def fleet(postgres, rasa_pair, rasa_model, tmp_path):
    """Machines A and B on one PostgreSQL, each with one of the session's Rasa servers."""
    sessions = make_session_factory(make_engine(postgres))
    with sessions() as s, s.begin():
        create_user(db_session=s, username="ada", password=PASSWORD, role="admin")
        v1 = versions.register_served(db_session=s, model_path=rasa_model, fp="served")
        v1.macro_f1 = 0.99  # the new version will need a reason, as a worse one would
    machines = []
    for name, rasa in zip("AB", rasa_pair, strict=True):
        home = tmp_path / name
        (home / "var").mkdir(parents=True)
        port = free_port()
        machine = Machine(name, home, rasa, base=f"http://127.0.0.1:{port}")
        machine.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            DATABASE_URL=postgres,
            CIVICLINE_MACHINE=name,
            CIVICLINE_PORT=str(port),
            CIVICLINE_WORKERS="1",
            CIVICLINE_RASA_URL=rasa.url,
            CIVICLINE_RASA_TOKEN=rasa.token,
            CIVICLINE_MODEL_DIR=str(home / "var" / "models"),
            CIVICLINE_TRAIN_EPOCHS="3",
            CIVICLINE_SECRET_KEY="two-machines",
            CIVICLINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
            CIVICLINE_RECONCILE_EVERY="0.3",
            CIVICLINE_DRAIN_SECONDS="0.6",
            CIVICLINE_REPLICA_GONE_SECONDS="4",
            TWILIO_AUTH_TOKEN=TOKEN,
        )
        machine.env["CIVICLINE_RASA_URL_ES"] = ""  # English only (over any var/run.env)
        with sessions() as s:  # as make run starts it: the served version from the store
            copy = local_copy(db_session=s, version_id=v1.id, cache_dir=home / "var/models/cache")
        rasa.client().load_model(rasa.url, str(copy))
        machine.start()
        machines.append(machine)
    yield machines, sessions
    for machine in machines:
        machine.kill()


def console(machine: Machine) -> requests.Session:
    web = requests.Session()
    page = web.get(machine.base + "/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = web.post(
        machine.base + "/console/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status_code == 302
    return web


def post(web: requests.Session, url: str, page: str, **form) -> requests.Response:
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(page).text).group(1)
    return web.post(url, data={"csrf_token": token, **form}, allow_redirects=False)


def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def activate(machine: Machine, web, version_id: int, **form) -> int:
    page = f"{machine.base}/console/admin/models/{version_id}"
    resp = post(web, page + "/activate", page, **form)
    assert resp.status_code == 303, resp.text
    shown = web.get(machine.base + resp.headers["Location"]).text
    job = re.search(r"\(job (\d+)\)", shown)
    assert job, re.findall(r'class="flash[^"]*">([^<]+)', shown)
    return int(job.group(1))


def finished(sessions, job_id: int) -> Job | None:
    with sessions() as s:
        job = s.get(Job, job_id)
        return job if job.status in ("done", "failed") else None


def test_two_machines_share_training_data_models_and_rollouts(fleet):
    (a, b), sessions = fleet
    web_a, web_b = console(a), console(b)

    # an example edited on A is B's training data too: it lives in the store
    example = f"potholes all along cedar lane {uuid.uuid4().hex[:8]}"
    page = f"{a.base}/console/admin/intents/pothole"
    assert post(web_a, page, page, action="add", text=example).status_code in (302, 303)
    assert example in web_b.get(f"{b.base}/console/admin/intents/pothole").text
    with sessions() as s:
        assert s.scalars(select(TrainingExample).where(TrainingExample.text == example)).one()

    # trained on A (its own var/), the model lands in the shared artifact store; the lock holds
    # across machines: B refuses a second training while A's runs
    models = f"{a.base}/console/admin/models"
    assert post(web_a, models, models).status_code in (302, 303)
    second = post(web_b, f"{b.base}/console/admin/models", f"{b.base}/console/admin/models")
    assert "one training at a time" in web_b.get(b.base + second.headers["Location"]).text
    with sessions() as s:
        v2 = s.scalars(select(ModelVersion).where(ModelVersion.id != 1)).one().id
    seen: set[int] = set()

    def trained():
        state = web_b.get(f"{b.base}/console/admin/models/{v2}/progress").json()
        seen.add(state["progress"])
        return state if state["status"] in ("trained", "failed") else None

    state = until(trained, 300, "training on A")
    assert state["status"] == "trained", state
    assert 100 in seen and "held-out macro-F1" in state["log"]
    folder = a.home / "var" / "models" / f"v{v2}"
    assert (folder / "model.tar.gz").is_file()
    assert not (b.home / "var" / "models" / f"v{v2}").exists()
    learned = (folder / "nlu.yml").read_text()
    assert f"    - {example}\n" in learned  # trained from the store, not data/nlu.yml
    assert web_b.get(f"{b.base}/console/admin/models/{v2}/nlu.yml").text == learned
    log = (folder / "train.log").read_text()
    assert "component LogisticRegressionClassifier trained" in log and "Warning" not in log
    assert "max_iter: 3" in (folder / "config.yml").read_text()
    with sessions() as s:
        version = s.get(ModelVersion, v2)
        assert version.model_path == f"models/v{v2}/model.tar.gz"
        report = version.report
    assert 0 < report["classifier_macro_f1"] <= 1
    assert 0 <= report["false_fallback"] <= 1 and 0 <= report["oos_catch"] <= 1
    # B's console shows what A's training left: the evaluation, the log, the confusion matrix
    page = web_b.get(f"{b.base}/console/admin/models/{v2}").text
    assert "confusion matrix" in page and "vs active v1" in page
    assert "as the bot runs it (after the fallback)" in page and "out of scope caught" in page
    image = web_b.get(f"{b.base}/console/admin/models/{v2}/confusion.png")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"

    # it scores below the active version: refused without a reason
    page = f"{a.base}/console/admin/models/{v2}"
    refused = post(web_a, page + "/activate", page)
    assert "give a reason to override" in web_a.get(a.base + refused.headers["Location"]).text

    # activated on A while residents text both machines: B's reconciler fetches the model from
    # the store and B's Rasa serves it; no text fails or waits for a model to load
    failures, replies, stop = [], [], threading.Event()

    def resident(n: int, machine: Machine) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                said = send(machine.base, machine.base, TOKEN, f"+1555014{n:04d}", "trash day?")
                replies.append(said)
                if not said or any("trouble" in r for r in said):
                    failures.append(said)
            except Exception as exc:  # an error page or a refused connection
                failures.append(repr(exc))

    residents = [threading.Thread(target=resident, args=(n, m)) for n, m in enumerate((a, b))]
    for thread in residents:
        thread.start()
    time.sleep(1)
    started = time.monotonic()
    job = activate(a, web_a, v2, reason="trial on two machines")
    until(lambda: b.serves() == f"v{v2}.tar.gz", 60, "B serving the new version")
    done = until(lambda: finished(sessions, job), 60, "the rollout")
    seconds = time.monotonic() - started
    time.sleep(1)
    stop.set()
    for thread in residents:
        thread.join()
    assert done.status == "done" and "on 2 Rasa server(s)" in done.result, done.result
    assert a.serves() == f"v{v2}.tar.gz" and seconds < 60
    assert failures == [] and len(replies) > 10, failures[:3]
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "nlu-activation.json").write_text(
        json.dumps(
            {
                "machines": 2,
                "activation_seconds": round(seconds, 1),
                "webhooks_during_activation": len(replies),
                "failures": len(failures),
                "train_seconds_3_iterations": state.get("train_seconds"),
            }
        )
    )
    assert (b.home / "var" / "models" / "cache" / f"v{v2}.tar.gz").is_file()
    page = web_b.get(f"{b.base}/console/admin/models").text
    assert 'data-machine="A"' in page and 'data-machine="B"' in page
    assert "Activated version" in page
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate")).one()
        assert entry.detail["override_reason"] == "trial on two machines"

    # rolled back on B: A follows
    job = activate(b, web_b, 1, rollback="1")
    until(lambda: a.serves() == "v1.tar.gz", 60, "A back on version 1")
    assert until(lambda: finished(sessions, job), 60, "the rollback").status == "done"
    assert "Rolled back to version 1" in web_a.get(f"{a.base}/console/admin/models").text

    # B dies in the middle of a rollout: the rollout completes without it
    job = activate(a, web_a, v2, reason="again")

    def b_swapping():
        with sessions() as s:
            row = s.scalars(
                select(RasaReplica).where(RasaReplica.machine == "B", RasaReplica.language == "en")
            ).one()
            return row.state in ("draining", "loading")

    until(b_swapping, 30, "B taking its replica out of rotation")
    b.kill()
    done = until(lambda: finished(sessions, job), 30, "the rollout without B")
    assert done.status == "done" and "on 1 Rasa server(s)" in done.result, done.result
    assert a.serves() == f"v{v2}.tar.gz"
    with sessions() as s:
        assert versions.active(db_session=s).id == v2

    # B comes back: its reconciler brings its Rasa server to the wanted version
    b.start_reconciler()
    until(lambda: b.serves() == f"v{v2}.tar.gz", 60, "B catching up")
