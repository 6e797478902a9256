"""The training data in the store: seeded once, edited under the same rules, rendered for Rasa."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.admin_models import AuditEntry
from cases.db import make_engine, make_session_factory
from cases.nlu_models import ModelVersion, TrainingDataSeed, TrainingExample
from cases.users import create_user
from nlu import training_store
from nlu.training_data import TrainingDataError, parse
from nlu.training_store import Change
from settings import ROOT
from tests.console_helpers import add_staff, sign_in
from tests.fakes import FakeNLU

SEED = """# a small seed
version: "3.1"
nlu:
- intent: pothole
  examples: |
    - pothole on elm st
    - there is a [huge](size) hole in the road
- regex: case_id
  examples: |
    - 311-\\d{6,10}
- intent: greet
  examples: |
    - hello
    - hi there
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose English seed is small (Spanish is the real file)."""
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "nlu.yml").write_text(SEED)
    return folder


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def ada(sessions):
    with sessions() as s, s.begin():
        return create_user(db_session=s, username="ada", password="x" * 12, role="admin")


def current(sessions, data_dir, language="en"):
    with sessions() as s, s.begin():
        return training_store.examples(db_session=s, language=language, data_dir=data_dir)


def yaml_of(sessions, data_dir, language="en"):
    with sessions() as s, s.begin():
        return training_store.to_yaml(db_session=s, language=language, data_dir=data_dir)


def save(sessions, data_dir, change, actor=None, validator=None):
    training_store.save(
        sessions=sessions, change=change, actor=actor, data_dir=data_dir, validator=validator
    )


def test_the_real_files_seed_once_and_render_back_to_the_same_examples(sessions):
    for language, path in (("en", ROOT / "data" / "nlu.yml"), ("es", ROOT / "data/es/nlu.yml")):
        seed = parse(path.read_text())
        rendered = parse(yaml_of(sessions, ROOT / "data", language))
        assert rendered.intents == seed.intents and list(rendered.intents) == list(seed.intents)
        assert "regex: case_id" in rendered.extra_yaml and rendered.extra_yaml == seed.extra_yaml
    yaml_of(sessions, ROOT / "data")  # seeded already: nothing added
    with sessions() as s:
        total = s.scalar(select(func.count()).select_from(TrainingExample))
        assert total == sum(
            len(v) for v in parse((ROOT / "data/nlu.yml").read_text()).intents.values()
        ) + sum(len(v) for v in parse((ROOT / "data/es/nlu.yml").read_text()).intents.values())
        assert s.scalar(select(func.count()).select_from(TrainingDataSeed)) == 2


def test_add_edit_delete_keep_order_and_are_audited(sessions, data_dir, ada):
    save(sessions, data_dir, Change("add", "pothole", "  sinkhole   on main st "), ada)
    assert current(sessions, data_dir)["pothole"][-1] == "sinkhole on main st"
    save(
        sessions,
        data_dir,
        Change("edit", "pothole", "Pothole on Elm Street", "pothole on elm st"),
        ada,
    )
    assert current(sessions, data_dir)["pothole"] == [
        "Pothole on Elm Street",
        "there is a [huge](size) hole in the road",
        "sinkhole on main st",
    ]
    save(sessions, data_dir, Change("delete", "greet", old="hi there"), ada)
    assert current(sessions, data_dir)["greet"] == ["hello"]
    with sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        row = s.scalars(select(TrainingExample).where(TrainingExample.text.like("Pothole%"))).one()
    assert [e.action for e in entries] == [
        "nlu.example.add",
        "nlu.example.edit",
        "nlu.example.delete",
    ]
    assert {e.actor_name for e in entries} == {"ada"} and entries[1].detail[
        "old"
    ] == "pothole on elm st"
    assert row.updated_by == "ada" and row.created_by == "seed"
    rendered = yaml_of(sessions, data_dir)
    assert rendered.index("- intent: pothole") < rendered.index("- intent: greet")
    assert "    - sinkhole on main st\n" in rendered and "hi there" not in rendered


REFUSED = [
    (Change("add", "greet", "HELLO"), "already in greet"),
    (Change("add", "greet", "there is a huge hole in the road"), "already in pothole"),
    (Change("edit", "greet", "Pothole on elm st", "hello"), "already in pothole"),
    (Change("add", "pothole", "   "), "cannot be empty"),
    (Change("add", "pothole", "/greet"), "cannot start with"),
    (Change("add", "pothole", "a [broken(size) markup"), "unbalanced brackets"),
    (Change("add", "pothole", "x" * 501), "at most 500"),
    (Change("add", "weather", "is it raining"), "unknown intent"),
    (Change("delete", "greet", old="howdy"), "reload the page"),
    (Change("rename", "greet", "hey"), "unknown action"),
]


def test_invalid_or_duplicate_edits_are_refused_and_change_nothing(sessions, data_dir):
    before = yaml_of(sessions, data_dir)
    for change, message in REFUSED:
        with pytest.raises(TrainingDataError, match=message):
            save(sessions, data_dir, change)
    assert yaml_of(sessions, data_dir) == before
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    with sessions() as s, s.begin():
        assert (
            training_store.find_duplicate(db_session=s, text="Hi There", data_dir=data_dir)
            == "greet"
        )
        assert (
            training_store.find_duplicate(db_session=s, text="hi where", data_dir=data_dir) is None
        )


def test_rasas_refusal_leaves_the_data_unchanged_and_it_saw_the_edit(sessions, data_dir):
    before, seen = yaml_of(sessions, data_dir), []

    def refuse(text: str, language: str) -> None:
        seen.append((text, language))
        raise TrainingDataError("rasa data validate refused the change: nope")

    with pytest.raises(TrainingDataError, match="refused"):
        save(sessions, data_dir, Change("add", "greet", "good morning"), validator=refuse)
    assert "    - good morning\n" in seen[0][0] and seen[0][1] == "en"
    assert yaml_of(sessions, data_dir) == before
    save(sessions, data_dir, Change("add", "greet", "good morning"), validator=lambda t, lang: None)
    assert "good morning" in current(sessions, data_dir)["greet"]


def test_two_machines_seeding_at_once_store_one_copy(sessions, data_dir):
    barrier, errors = threading.Barrier(4), []

    def seed() -> None:
        try:
            barrier.wait()
            with sessions() as s, s.begin():
                training_store.ensure_seeded(db_session=s, data_dir=data_dir)
        except Exception as exc:  # pragma: no cover - shown by the assert
            errors.append(exc)

    threads = [threading.Thread(target=seed) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(TrainingExample)) == 4
        assert s.scalar(select(func.count()).select_from(TrainingDataSeed)) == 1


def test_export_cli_and_the_versions_snapshot(settings, data_dir):
    from dataclasses import replace

    app = create_app(replace(settings, data_dir=data_dir), nlu=FakeNLU())
    rt = app.extensions["civicline"]
    runner = app.test_cli_runner()
    save(rt.Session, data_dir, Change("add", "greet", "good evening"))
    exported = runner.invoke(args=["nlu", "export"])
    assert exported.exit_code == 0, exported.output
    assert parse(exported.output).intents["greet"] == ["hello", "hi there", "good evening"]
    with rt.Session() as s, s.begin():
        version = ModelVersion(created_by="test", status="training", language="en")
        s.add(version)
        s.flush()
        trained = training_store.snapshot(db_session=s, version_id=version.id, data_dir=data_dir)
        version_id = version.id
    save(rt.Session, data_dir, Change("delete", "greet", old="good evening"))
    out = data_dir.parent / "v.yml"
    again = runner.invoke(args=["nlu", "export", "--version", str(version_id), "--out", str(out)])
    assert again.exit_code == 0 and out.read_text() == trained and "good evening" in trained
    assert "good evening" not in runner.invoke(args=["nlu", "export"]).output
    spanish = runner.invoke(args=["nlu", "export", "--language", "es"])
    assert parse(spanish.output).intents == parse((ROOT / "data/es/nlu.yml").read_text()).intents
    missing = runner.invoke(args=["nlu", "export", "--version", "999"])
    assert missing.exit_code != 0 and "no stored training data" in missing.output

    add_staff(rt)
    admin = app.test_client()
    assert sign_in(admin, "ada").status_code == 302
    download = admin.get(f"/console/admin/models/{version_id}/nlu.yml")
    assert download.status_code == 200 and download.get_data(as_text=True) == trained
    page = admin.get(f"/console/admin/models/{version_id}").get_data(as_text=True)
    assert 'id="snapshot"' in page and "5 examples" in page
    assert admin.get("/console/admin/models/999/nlu.yml").status_code == 404
