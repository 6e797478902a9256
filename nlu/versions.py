"""Model versions: train in the background, evaluate on held-out data (activation: activation.py).

Service functions take the session as a keyword and know nothing of Flask; the console and the
`flask nlu` commands call the same code. A training is a `train` job holding the database lock
`nlu.train`, so there is one at a time across every machine that shares the store. Each version
has a language: it learns from that language's data and config (nlu/languages.py), is scored on
that language's held-out file, and is compared with and replaces only that language's active one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cases import jobs
from cases.admin_models import User
from cases.audit import record
from cases.models import utcnow
from cases.nlu_models import ModelVersion
from nlu import training_store
from nlu.evaluate import bot_label, load_examples, parse_offline, rasa_test_nlu, runtime_scores
from nlu.languages import DEFAULT, lookup
from nlu.model_store import ModelMissing, local_copy, save_extras, save_model
from nlu.rasa_cli import HELD_OUT, ROOT, fingerprint, train_nlu

TRAIN_LOCK = "nlu.train"
EVALUATE_LOCK = "nlu.evaluate"


class VersionError(ValueError):
    """A model action that cannot be done (busy, not trained, worse than active...)."""


def running(*, db_session: Session, now: datetime | None = None) -> ModelVersion | None:
    """The training in progress, if any; one whose process died is marked failed (and freed)."""
    reaped = jobs.reap(db_session=db_session, name=TRAIN_LOCK, what="training", now=now)
    if reaped is not None:
        record(
            db_session=db_session,
            actor=None,
            action="nlu.train.interrupted",
            target_type="model_version",
            target_id=reaped[0].target_id or "",
            detail={"job": reaped[0].id, "why": reaped[1]},
        )
    job = jobs.holder(db_session=db_session, name=TRAIN_LOCK)
    busy = db_session.get(ModelVersion, job.target_id) if job and job.target_id else None
    orphans = select(ModelVersion).where(ModelVersion.status.in_(("queued", "training")))
    for version in db_session.scalars(orphans):  # no live job trains it: its process is gone
        if busy is None or version.id != busy.id:
            version.status = "failed"
            version.error = f"training stopped: {reaped[1] if reaped else 'no job was running it'}"
            version.finished_at = now or utcnow()
    return busy


def start_training(
    *,
    db_session: Session,
    user: User | None,
    epochs: int | None,
    language: str = DEFAULT,
    now: datetime | None = None,
) -> ModelVersion:
    """Queue a training holding the training lock; the caller then launches `launch(version.id)`."""
    busy = running(db_session=db_session, now=now)
    if busy is not None:
        raise VersionError(
            f"version {busy.id} is training now ({busy.progress}%); one training at a time"
        )
    version = ModelVersion(
        created_by=user.username if user else "cli",
        status="queued",
        epochs=epochs,
        created_at=now or utcnow(),
        language=lookup(language).code,
    )
    db_session.add(version)
    db_session.flush()
    try:
        job = jobs.create_job(
            db_session=db_session,
            kind="train",
            lock=TRAIN_LOCK,
            target_id=version.id,
            created_by=version.created_by,
            detail={"epochs": epochs, "language": version.language},
            now=now,
        )
    except jobs.LockBusy as exc:  # another machine's request won the conditional UPDATE
        raise VersionError("another training started just now; one training at a time") from exc
    record(
        db_session=db_session,
        actor=user,
        action="nlu.train",
        target_type="model_version",
        target_id=version.id,
        detail={"epochs": epochs, "job": job.id, "language": version.language},
    )
    return version


def training_job(*, db_session: Session, version_id: int) -> int | None:
    """The id of the queued job that trains this version (what `nlu.jobs train` runs)."""
    job = jobs.holder(db_session=db_session, name=TRAIN_LOCK)
    return job.id if job is not None and job.target_id == version_id else None


def run_training(
    *, sessions: sessionmaker[Session], version_id: int, data_dir: Path, model_dir: Path
) -> ModelVersion:
    """Train a queued version in this process, its job's lock held and heartbeat kept throughout."""
    with sessions() as s, s.begin():
        job_id = training_job(db_session=s, version_id=version_id)
        if job_id is None:
            raise VersionError(f"version {version_id} has no queued training")
        lease = jobs.start(db_session=s, job_id=job_id)
    with jobs.heartbeat(sessions, lease):
        try:
            version = train(
                sessions=sessions, version_id=version_id, data_dir=data_dir, model_dir=model_dir
            )
        except Exception as exc:
            with sessions() as s, s.begin():
                jobs.finish(db_session=s, lease=lease, status="failed", error=str(exc)[-2000:])
            raise
        with sessions() as s, s.begin():
            jobs.finish(
                db_session=s,
                lease=lease,
                status="done",
                result=f"trained version {version_id}: held-out macro-F1 {version.macro_f1:.4f}",
            )
    return version


def run_evaluation(
    *, sessions: sessionmaker[Session], version_id: int, out: Path, created_by: str = "cli"
) -> float:
    """Score a version as an `evaluate` job under the evaluation lock (one at a time)."""
    with sessions() as s, s.begin():
        jobs.reap(db_session=s, name=EVALUATE_LOCK, what="evaluation")
        try:
            job_id = jobs.create_job(
                db_session=s,
                kind="evaluate",
                lock=EVALUATE_LOCK,
                target_id=version_id,
                created_by=created_by,
            ).id
        except jobs.LockBusy as exc:
            other = exc.holder.target_id if exc.holder else "?"
            raise VersionError(
                f"version {other} is being evaluated now; one evaluation at a time"
            ) from exc
    with sessions() as s, s.begin():
        lease = jobs.start(db_session=s, job_id=job_id)
    with jobs.heartbeat(sessions, lease):
        try:
            f1 = evaluate_version(sessions=sessions, version_id=version_id, out=out)
        except Exception as exc:
            with sessions() as s, s.begin():
                jobs.finish(db_session=s, lease=lease, status="failed", error=str(exc)[-2000:])
            raise
        with sessions() as s, s.begin():
            jobs.finish(
                db_session=s, lease=lease, status="done", result=f"held-out macro-F1 {f1:.4f}"
            )
    return f1


def launch(version_id: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `python -m nlu.jobs train ID` detached from the web worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "nlu.jobs", "train", str(version_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _config_with_epochs(target: Path, epochs: int | None, config_file: Path) -> Path:
    """The language's config, with the classifier's passes over the data capped when asked.

    DIET's `epochs`, or logistic regression's `max_iter` (a quick, rough version for tests).
    """
    yaml = YAML()
    config = yaml.load(config_file.read_text())
    if epochs:
        for component in config["pipeline"]:
            for key in ("epochs", "max_iter"):
                if key in component:
                    component[key] = epochs
    with target.open("w") as fh:
        yaml.dump(config, fh)
    return target


def train(
    *, sessions: sessionmaker[Session], version_id: int, data_dir: Path, model_dir: Path
) -> ModelVersion:
    """Train and evaluate one version from its language's data (run inside the background job)."""
    folder = model_dir / f"v{version_id}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log_path = folder / "train.log"
    with sessions() as s, s.begin():
        version = s.get(ModelVersion, version_id)
        assert version is not None
        epochs, row = version.epochs, lookup(version.language)
        version.status, version.log_path, version.progress = "training", str(log_path), 0
        # the exact data this version learns from: the store's examples now (data_dir: the seed)
        data = training_store.snapshot(
            db_session=s, version_id=version_id, language=row.code, data_dir=data_dir
        )
    snapshot = folder / "nlu.yml"
    snapshot.write_text(data, encoding="utf-8")
    config = _config_with_epochs(folder / "config.yml", epochs, row.config)
    started = time.monotonic()
    last = [-1]

    def progress(pct: int) -> None:
        if pct >= last[0] + 5 or pct == 100:
            last[0] = pct
            with sessions() as s, s.begin():
                s.get(ModelVersion, version_id).progress = pct  # type: ignore[union-attr]

    components = len(YAML().load(config.read_text())["pipeline"])
    finished: list[str] = []

    def component(name: str) -> None:  # pipelines without epochs still show progress
        finished.append(name)
        progress(min(95, round(95 * len(finished) / components)))

    try:
        train_nlu(
            config,
            snapshot,
            folder,
            "model",
            log_file=log_path,
            on_progress=progress,
            on_component=component,
        )
        seconds = round(time.monotonic() - started, 1)
        with log_path.open("a") as fh:
            fh.write(f"trained in {seconds} s; evaluating on {row.held_out.relative_to(ROOT)}\n")
        report = evaluate(folder / "model.tar.gz", folder / "eval", row.held_out)
    except Exception as exc:  # the job records any failure for the page, then ends
        with sessions() as s, s.begin():
            version = s.get(ModelVersion, version_id)
            version.status, version.error = "failed", str(exc)[-2000:]  # type: ignore[union-attr]
            version.finished_at = utcnow()  # type: ignore[union-attr]
        raise
    with sessions() as s, s.begin():  # the model goes to the shared store with its row
        version = s.get(ModelVersion, version_id)
        assert version is not None
        version.status, version.progress = "trained", 100
        save_model(db_session=s, version=version, path=folder / "model.tar.gz")
        save_extras(db_session=s, version=version, folder=folder, report=report)
        version.fingerprint = fingerprint(config, [snapshot])
        version.train_seconds = seconds
        version.report = report
        version.macro_f1 = report["macro_f1"]
        version.evaluated_at = version.finished_at = utcnow()
    with log_path.open("a") as fh:
        fh.write(f"held-out macro-F1 {report['macro_f1']:.4f}; done\n")
    return version


def evaluate(model: Path, out: Path, heldout: Path = HELD_OUT) -> dict[str, Any]:
    """Score a model on the held-out file as the running bot uses it (after the fallback).

    Every figure comes from parsing each text the way /model/parse does, so a prediction under
    the fallback threshold counts as "not understood"; `rasa test nlu` (which undoes the
    fallback) still runs for its confusion matrix and the classifier's own macro-F1.
    """
    intents = rasa_test_nlu(model, out, heldout)
    examples = load_examples(heldout)
    parsed = parse_offline(model, [text for text, _ in examples])
    scores = runtime_scores(examples, [row["intent"] for row in parsed])
    per_intent = {
        intent: {
            "precision": v["precision"],
            "recall": v["recall"],
            "f1-score": v["f1"],
            "support": v["support"],
        }
        for intent, v in scores["per_intent"].items()
    }
    return {
        "macro_f1": scores["macro_f1"],
        "accuracy": scores["accuracy"],
        "oos_catch": scores["oos_catch"],
        "false_fallback": scores["false_fallback"],
        "classifier_macro_f1": round(float(intents["macro avg"]["f1-score"]), 4),
        "per_intent": per_intent,
        "predictions": {
            text: bot_label(row["intent"]) for (text, _), row in zip(examples, parsed, strict=True)
        },
        "confusion_matrix": str(out / "intent_confusion_matrix.png"),
    }


def evaluate_version(*, sessions: sessionmaker[Session], version_id: int, out: Path) -> float:
    """Score a stored version on the held-out file and keep the report; returns macro-F1."""
    with sessions() as db_session:
        version = db_session.get(ModelVersion, version_id)
        if version is None or not version.model_path:
            raise VersionError(f"version {version_id} has no model")
        try:
            cache = out.parent / "cache"  # this machine's copies (nlu/model_store.py)
            model = local_copy(db_session=db_session, version_id=version_id, cache_dir=cache)
        except ModelMissing as exc:
            raise VersionError(str(exc)) from exc
        heldout = lookup(version.language).held_out
    report = evaluate(model, out, heldout)
    with sessions() as db_session, db_session.begin():
        version = db_session.get(ModelVersion, version_id)
        assert version is not None
        version.report, version.macro_f1 = report, report["macro_f1"]
        version.evaluated_at = utcnow()
    return float(report["macro_f1"])


def active(*, db_session: Session, language: str = DEFAULT) -> ModelVersion | None:
    """The version this language's Rasa servers serve."""
    return db_session.scalars(
        select(ModelVersion).where(
            ModelVersion.active.is_(True), ModelVersion.language == lookup(language).code
        )
    ).first()


def register_served(
    *, db_session: Session, model_path: Path, fp: str, language: str = DEFAULT
) -> ModelVersion:
    """Record the model `make run` serves when no version exists yet (so rollback has a base)."""
    version = ModelVersion(
        language=lookup(language).code,
        created_by="make run",
        status="trained",
        progress=100,
        fingerprint=fp,
        active=True,
        activated_at=utcnow(),
        activated_by="make run",
        finished_at=utcnow(),
    )
    db_session.add(version)
    db_session.flush()
    save_model(db_session=db_session, version=version, path=model_path)
    return version
