"""Spanish model versions beside English ones, through the real servers of both languages.

A Spanish version trains from data/es/nlu.yml with config.es.yml and is scored on the Spanish
held-out file; activating or rolling back a Spanish version loads only the Spanish server and
leaves the English servers and the English active version alone.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from app import create_app
from cases.job_models import Job
from cases.nlu_models import ModelVersion
from nlu import training_store, versions
from nlu.languages import LANGUAGES
from nlu.model_store import local_copy, save_model
from nlu.training_data import parse
from nlu.training_store import Change
from settings import ROOT
from tests.console_helpers import add_staff, csrf, sign_in
from tests.fleet_helpers import reconciling

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture
def world(settings, rasa_server, rasa_server_es, rasa_model, rasa_model_es, tmp_path):
    """An app served by the English and the Spanish server; v1 (en) and v2 (es) active."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    app = create_app(
        replace(
            settings,
            data_dir=data,
            model_dir=tmp_path / "models",
            train_epochs=3,
            rasa_url=rasa_server.url,
            rasa_language_urls={"es": rasa_server_es.url},
            rasa_token=rasa_server.token,
            secret_key="retraining-es",
        )
    )
    rt = app.extensions["civicline"]
    add_staff(rt)
    cache = tmp_path / "models" / "cache"
    with rt.Session() as s, s.begin():
        v1 = versions.register_served(db_session=s, model_path=rasa_model, fp="en")
        v2 = versions.register_served(
            db_session=s, model_path=rasa_model_es, fp="es", language="es"
        )
        v1.macro_f1, v2.macro_f1 = 0.95, 0.88
        v3 = ModelVersion(created_by="ada", status="trained", macro_f1=0.88, language="es")
        s.add(v3)
        s.flush()
        save_model(db_session=s, version=v3, path=rasa_model_es)  # the Spanish model again: v3
        copies = {
            url: local_copy(db_session=s, version_id=v, cache_dir=cache)
            for url, v in ((rasa_server.url, v1.id), (rasa_server_es.url, v2.id))
        }
    for url, copy in copies.items():  # as make run serves them: named after their version
        rt.nlu.load_model(url, str(copy))
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    urls = {"en": [rasa_server.url], "es": [rasa_server_es.url]}
    with reconciling(rt.Session, urls, token=rasa_server.token, cache_dir=cache, machine="m1"):
        yield app, rt, admin
    rt.nlu.load_model(rasa_server.url, str(rasa_model))  # the session's servers, as found
    rt.nlu.load_model(rasa_server_es.url, str(rasa_model_es))
    rt.db.dispose()


def served(rt) -> dict[str, str]:
    """Which model file each language's server has loaded."""
    return {
        lang: rt.nlu.status(url)["model_file"]
        for lang in ("en", "es")
        for url in rt.nlu.urls_for(lang)
    }


def wait_job(admin, rt, kind: str, timeout: float = 300) -> dict:
    """Follow the newest job of a kind (it runs in its own process) until it ends."""
    with rt.Session() as s:
        job_id = s.scalars(select(Job).where(Job.kind == kind).order_by(Job.id.desc())).first().id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = admin.get(f"/console/admin/jobs/{job_id}/progress").get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"{kind} job {job_id} did not finish")


def test_spanish_activation_and_rollback_touch_only_the_spanish_servers(world):
    _, rt, admin = world
    before = served(rt)
    page = admin.get("/console/admin/models").get_data(as_text=True)
    assert 'data-language="en"' in page and 'data-language="es"' in page and "Español" in page
    token = csrf(admin, "/console/admin/models")
    resp = admin.post("/console/admin/models/3/activate", data={"csrf_token": token})
    assert resp.status_code == 303
    job = wait_job(admin, rt, "activate")
    assert job["status"] == "done", job
    assert list(job["progress"]) == [f"m1 {u}" for u in rt.nlu.urls_for("es")]  # Spanish only
    assert "Español version 3" in job["intent"]
    now = served(rt)
    assert now["en"] == before["en"] and now["es"] == "v3.tar.gz" != before["es"]
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 1  # English untouched
        assert versions.active(db_session=s, language="es").id == 3
        assert not s.get(ModelVersion, 2).active
    back = admin.post(
        "/console/admin/models/2/activate", data={"csrf_token": token, "rollback": "1"}
    )
    assert back.status_code == 303 and wait_job(admin, rt, "activate")["status"] == "done"
    assert served(rt) == before
    with rt.Session() as s:
        assert versions.active(db_session=s).id == 1
        assert versions.active(db_session=s, language="es").id == 2


def test_a_spanish_version_learns_and_is_scored_in_spanish(world, monkeypatch, rasa_model_es):
    """The Spanish row's data and config go to training, and the real evaluation is Spanish.

    Rasa's own training is the English retraining test's (tests/integration/test_retraining.py,
    the same code with the English row); here it is replaced by the cached Spanish model, which
    keeps a minute and a half of `make test` for the part that differs by language. The scores
    are real: every Spanish held-out text parsed by the model.
    """
    app, rt, admin = world
    token = csrf(admin, "/console/admin/models")
    assert (
        admin.post(
            "/console/admin/models", data={"csrf_token": token, "language": "xx"}
        ).status_code
        == 400
    )
    trained: list[tuple[str, str]] = []

    def fake_train(config, data, out, name, **progress):
        trained.append((config.read_text(), data.read_text()))
        shutil.copy(rasa_model_es, out / f"{name}.tar.gz")

    monkeypatch.setattr(versions, "train_nlu", fake_train)
    # `rasa test nlu` only draws the confusion matrix; the scores come from parsing each
    # held-out text with the real model, as the bot does (nlu.evaluate.parse_offline)
    monkeypatch.setattr(versions, "rasa_test_nlu", lambda *a: {"macro avg": {"f1-score": 0.0}})
    added = "cancela el reporte del bache de la calle pino"  # in the store, not the file
    training_store.save(
        sessions=rt.Session,
        change=Change("add", "cancel", added, language="es"),
        actor=None,
        data_dir=rt.settings.data_dir,
        validator=None,
    )
    with rt.Session() as s, s.begin():
        version_id = versions.start_training(db_session=s, user=None, epochs=3, language="es").id
    versions.run_training(
        sessions=rt.Session,
        version_id=version_id,
        data_dir=rt.settings.data_dir,
        model_dir=rt.settings.model_dir,
    )
    assert len(trained) == 1 and "language: es" in trained[0][0]
    folder = rt.settings.model_dir / f"v{version_id}"
    assert "language: es" in (folder / "config.yml").read_text()
    learned = parse((folder / "nlu.yml").read_text())
    seed = parse((ROOT / "data" / "es" / "nlu.yml").read_text())
    assert learned.intents["cancel"] == [*seed.intents["cancel"], added]
    assert {i: e for i, e in learned.intents.items() if i != "cancel"} == {
        i: e for i, e in seed.intents.items() if i != "cancel"
    }
    assert trained[0][1] == (folder / "nlu.yml").read_text()
    with rt.Session() as s:
        snap = training_store.stored_snapshot(db_session=s, version_id=version_id)
        assert snap.yaml == trained[0][1] and snap.language == "es"
    with rt.Session() as s:
        version = s.get(ModelVersion, version_id)
        assert version.language == "es" and 0 < version.macro_f1 <= 1
        held_out = LANGUAGES["es"].held_out.read_text()
        assert all(text in held_out for text in list(version.report["predictions"])[:20])
    page = admin.get(f"/console/admin/models/{version_id}").get_data(as_text=True)
    assert "vs active v2" in page  # compared with the Spanish active version, not English v1
    listed = app.test_cli_runner().invoke(args=["nlu", "list"])
    assert f"v{version_id}\ttrained" in listed.output and "\tes" in listed.output
