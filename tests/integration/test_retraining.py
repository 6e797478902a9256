"""Admin retraining through the real Rasa servers and database: edit, train, evaluate, activate.

Two Rasa servers (as `make run` starts them) serve the app, so activation can swap them one at a
time while webhooks keep flowing. Training uses DIET with 3 epochs (configuration only).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select

from app import create_app
from cases.models import AuditEntry, Job, ModelVersion
from nlu import training_store, versions
from nlu.model_store import local_copy
from nlu.training_data import parse
from settings import ROOT
from tests.conftest import PUBLIC_URL
from tests.console_helpers import add_staff, csrf, sign_in
from tests.fleet_helpers import reconciling
from tests.integration.conftest import sign, sms_form

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
EPOCHS = 3


@pytest.fixture
def pair(rasa_pair):
    """The session's two Rasa replicas."""
    return rasa_pair


@pytest.fixture(scope="module")
def baseline(rasa_model, tmp_path_factory):
    """The served model's held-out evaluation (what `make run` registers as version 1)."""
    out = tmp_path_factory.mktemp("baseline") / "eval"
    return versions.evaluate(rasa_model, out)


@pytest.fixture
def world(settings, pair, rasa_model, baseline, tmp_path):
    """An app on a copy of data/, with its own model folder, served by the pair."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    app = create_app(
        replace(
            settings,
            data_dir=data,
            model_dir=tmp_path / "models",
            train_epochs=EPOCHS,
            rasa_url=",".join(s.url for s in pair),
            rasa_token=pair[0].token,
            nlu_timeout=3.0,
            secret_key="retraining",
        )
    )
    rt = app.extensions["civicline"]
    add_staff(rt)
    with rt.Session() as s, s.begin():
        v1 = versions.register_served(db_session=s, model_path=rasa_model, fp="served")
        v1.report, v1.macro_f1 = baseline, baseline["macro_f1"]
    cache = tmp_path / "models" / "cache"
    with rt.Session() as s:  # every test starts from the served model, as make run serves it
        copy = local_copy(db_session=s, version_id=v1.id, cache_dir=cache)
    for server in pair:
        rt.nlu.load_model(server.url, str(copy))
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    urls = {"en": [s.url for s in pair]}
    with reconciling(rt.Session, urls, token=pair[0].token, cache_dir=cache, machine="m1"):
        yield app, rt, admin, data
    rt.db.dispose()


def model_ids(rt) -> set[str]:
    return {rt.nlu.status(url)["model_id"] for url in rt.nlu.urls}


def wait_trained(admin, version_id: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < deadline:
        state = admin.get(f"/console/admin/models/{version_id}/progress").get_json()
        seen.add(state["progress"])
        if state["status"] in ("trained", "failed"):
            state["seen"] = seen
            return state
        time.sleep(1)
    raise AssertionError("training did not finish")


def wait_activated(admin, rt, timeout: float = 300) -> dict:
    """Follow the newest activation job (the reconciler rolls it out) until it ends."""
    with rt.Session() as s:
        job_id = (
            s.scalars(select(Job).where(Job.kind == "activate").order_by(Job.id.desc())).first().id
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = admin.get(f"/console/admin/jobs/{job_id}/progress").get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.5)
    raise AssertionError("activation did not finish")


def exported(app, *args: str) -> str:
    """The training data as `flask nlu export` writes it."""
    result = app.test_cli_runner().invoke(args=["nlu", "export", *args])
    assert result.exit_code == 0, result.output
    return result.output


def examples(rt, intent: str) -> list[str]:
    with rt.Session() as s, s.begin():
        return training_store.examples(db_session=s, data_dir=rt.settings.data_dir)[intent]


def test_invalid_edits_are_refused_and_nothing_is_lost(world):
    app, _, admin, data = world
    before, seed_file = exported(app), (data / "nlu.yml").read_bytes()
    token = csrf(admin, "/console/admin/intents/pothole")
    for text in ("theres a huge pothole on elm st", "[broken markup", "/greet", "   "):
        resp = admin.post(
            "/console/admin/intents/pothole",
            data={"csrf_token": token, "action": "add", "text": text},
        )
        assert resp.status_code == 400 and "Not saved" in resp.get_data(as_text=True)
    assert exported(app) == before and (data / "nlu.yml").read_bytes() == seed_file


def test_examples_are_added_edited_and_deleted_in_rasa_format(world):
    app, rt, admin, data = world
    before, seed_file = exported(app), (data / "nlu.yml").read_bytes()
    token = csrf(admin, "/console/admin/intents/rodents")
    add = {"csrf_token": token, "action": "add", "text": "mice nesting in the bus shelter on 4th"}
    assert admin.post("/console/admin/intents/rodents", data=add).status_code == 302
    assert "mice nesting in the bus shelter on 4th" in examples(rt, "rodents")
    assert "    - mice nesting in the bus shelter on 4th\n" in exported(app)
    admin.post(
        "/console/admin/intents/rodents",
        data={
            "csrf_token": token,
            "action": "edit",
            "old": "mice nesting in the bus shelter on 4th",
            "text": "mice nesting in the bus shelter on 5th",
        },
    )
    assert "mice nesting in the bus shelter on 5th" in examples(rt, "rodents")
    admin.post(
        "/console/admin/intents/rodents",
        data={
            "csrf_token": token,
            "action": "delete",
            "old": "mice nesting in the bus shelter on 5th",
        },
    )
    assert exported(app) == before  # round trip is exact
    assert parse(before).intents == parse((ROOT / "data" / "nlu.yml").read_text()).intents
    assert (data / "nlu.yml").read_bytes() == seed_file  # the file is only the seed
    with rt.Session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.target_id == "rodents"))
        assert list(actions) == ["nlu.example.add", "nlu.example.edit", "nlu.example.delete"]
    page = admin.get("/console/admin/intents").get_data(as_text=True)
    assert "rodents" in page and "0.9" in page  # per-intent F1 of the active model


def test_train_evaluate_activate_and_roll_back_without_dropping_webhooks(world):
    app, rt, admin, _ = world
    served = model_ids(rt)
    token = csrf(admin, "/console/admin/models")
    # a new example (unique per run, so Rasa's component cache cannot skip the epochs)
    example = f"potholes everywhere on cedar lane {uuid.uuid4().hex[:8]}"
    admin.post(
        "/console/admin/intents/pothole",
        data={"csrf_token": token, "action": "add", "text": example},
    )
    started = admin.post("/console/admin/models", data={"csrf_token": token})
    assert started.status_code == 302
    second = admin.post("/console/admin/models", data={"csrf_token": token}, follow_redirects=True)
    assert "one training at a time" in second.get_data(as_text=True)
    with rt.Session() as s:
        [v2] = s.scalars(select(ModelVersion).where(ModelVersion.id != 1)).all()
    state = wait_trained(admin, v2.id)
    assert state["status"] == "trained", state
    assert 100 in state["seen"] and "held-out macro-F1" in state["log"]
    learned = (rt.settings.model_dir / f"v{v2.id}" / "nlu.yml").read_text()
    assert f"    - {example}\n" in learned  # trained from the store, not data/nlu.yml
    assert exported(app, "--version", str(v2.id)) == learned
    assert admin.get(f"/console/admin/models/{v2.id}/nlu.yml").get_data(as_text=True) == learned
    log = (rt.settings.model_dir / f"v{v2.id}" / "train.log").read_text()
    assert "component LogisticRegressionClassifier trained" in log and "Warning" not in log
    assert "max_iter: 3" in (rt.settings.model_dir / f"v{v2.id}" / "config.yml").read_text()
    page = admin.get(f"/console/admin/models/{v2.id}").get_data(as_text=True)
    assert "confusion matrix" in page and "vs active v1" in page
    assert "as the bot runs it (after the fallback)" in page and "out of scope caught" in page
    with rt.Session() as s:
        report = s.get(ModelVersion, v2.id).report
    assert 0 < report["classifier_macro_f1"] <= 1
    assert 0 <= report["false_fallback"] <= 1 and 0 <= report["oos_catch"] <= 1
    assert admin.get(f"/console/admin/models/{v2.id}/confusion.png").mimetype == "image/png"

    # 3 iterations score below the served model: refused without a reason
    refused = admin.post(
        f"/console/admin/models/{v2.id}/activate", data={"csrf_token": token}, follow_redirects=True
    )
    assert "give a reason to override" in refused.get_data(as_text=True)
    assert model_ids(rt) == served

    failures, replies, stop = [], [], threading.Event()

    def resident(n: int) -> None:
        client, i = app.test_client(), 0
        while not stop.is_set():
            i += 1
            form = sms_form("when is trash pickup", f"+1555013{n:04d}", f"SMswap{n}x{i:024d}")
            resp = client.post(
                "/twilio/sms",
                data=form,
                headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/sms", form)},
            )
            body = resp.get_data(as_text=True)
            replies.append(body)
            if resp.status_code != 200 or "trouble" in body:
                failures.append((resp.status_code, body[:120]))

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    time.sleep(1)
    activated = admin.post(
        f"/console/admin/models/{v2.id}/activate",
        data={"csrf_token": token, "reason": "trial of the new data"},
    )
    assert activated.status_code == 303  # recorded; the machine's reconciler loads the servers
    job = wait_activated(admin, rt)
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    assert job["status"] == "done", job
    page = admin.get("/console/admin/models").get_data(as_text=True)
    assert "Activated version" in page
    seconds = float(re.search(r"in ([\d.]+) s", job["result"]).group(1))
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "nlu-activation.json").write_text(
        json.dumps(
            {
                "activation_seconds": seconds,
                "webhooks_during_activation": len(replies),
                "failures": len(failures),
                "train_seconds_3_epochs": state.get("train_seconds"),
            }
        )
    )
    assert failures == [] and len(replies) > 10
    assert model_ids(rt) != served and len(model_ids(rt)) == 1
    with rt.Session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "nlu.activate")).one()
        assert entry.detail["override_reason"] == "trial of the new data"
        assert versions.active(db_session=s).id == v2.id

    back = admin.post(
        "/console/admin/models/1/activate", data={"csrf_token": token, "rollback": "1"}
    )
    assert back.status_code == 303 and wait_activated(admin, rt)["status"] == "done"
    assert "Rolled back to version 1" in admin.get("/console/admin/models").get_data(as_text=True)
    assert model_ids(rt) == served


def test_cli_twins(world):
    app, _, _, _ = world
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["nlu", "list"])
    assert listed.exit_code == 0 and "v1\ttrained" in listed.output
    refused = runner.invoke(args=["nlu", "activate", "1"])
    assert refused.exit_code != 0 and "already active" in refused.output
    scored = runner.invoke(args=["nlu", "evaluate", "1"])
    assert scored.exit_code == 0 and "held-out macro-F1 0.9" in scored.output
