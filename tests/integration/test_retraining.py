"""Admin retraining through the real database and Rasa's validator: edit the training data,
refuse invalid edits, and the CLI twins. Training, evaluation and activation through real Rasa
servers, on two machines at once, are in test_two_machines.py.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from sqlalchemy import select

from app import create_app
from cases.admin_models import AuditEntry
from nlu import training_store, versions
from nlu.training_data import parse
from settings import ROOT
from tests.console_helpers import add_staff, csrf, sign_in

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
EPOCHS = 3


@pytest.fixture(scope="module")
def baseline(rasa_model, tmp_path_factory):
    """The served model's held-out evaluation (what `make run` registers as version 1)."""
    out = tmp_path_factory.mktemp("baseline") / "eval"
    return versions.evaluate(rasa_model, out)


@pytest.fixture
def world(settings, rasa_model, baseline, tmp_path):
    """An app on a copy of data/, with its own model folder, version 1 served and scored."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    app = create_app(
        replace(
            settings,
            data_dir=data,
            model_dir=tmp_path / "models",
            train_epochs=EPOCHS,
            secret_key="retraining",
        )
    )
    rt = app.extensions["civicline"]
    add_staff(rt)
    with rt.Session() as s, s.begin():
        v1 = versions.register_served(db_session=s, model_path=rasa_model, fp="served")
        v1.report, v1.macro_f1 = baseline, baseline["macro_f1"]
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    yield app, rt, admin, data
    rt.db.dispose()


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


def test_cli_twins(world, baseline, monkeypatch):
    app, _, _, _ = world
    # the CLI's wiring (job, lock, local copy, stored report); the scoring itself is what the
    # baseline fixture ran, and training on a machine in test_two_machines.py scores for real
    monkeypatch.setattr(versions, "evaluate", lambda model, out, heldout: baseline)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["nlu", "list"])
    assert listed.exit_code == 0 and "v1\ttrained" in listed.output
    refused = runner.invoke(args=["nlu", "activate", "1"])
    assert refused.exit_code != 0 and "already active" in refused.output
    scored = runner.invoke(args=["nlu", "evaluate", "1"])
    assert scored.exit_code == 0 and "held-out macro-F1 0.9" in scored.output
