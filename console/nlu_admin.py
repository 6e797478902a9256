"""Admin NLU pages: intents and their examples, training candidates, model versions."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import func, select

from cases import jobs
from cases.job_models import Job
from cases.models import Turn, utcnow
from cases.nlu_models import ModelVersion, TrainingCandidate
from console.blueprint import bp, login_required, runtime
from console.conversations import intents as all_intents
from nlu import activation, curation, fleet, model_store, training_store, versions
from nlu.client import servers_for
from nlu.job_processes import job_env
from nlu.languages import DEFAULT, LANGUAGES
from nlu.training_data import TrainingDataError
from nlu.training_store import Change


def _data_dir() -> Path:
    """Where the seed files are (CIVICLINE_DATA_DIR); the examples themselves are in the store."""
    return Path(runtime().settings.data_dir)


@bp.get("/admin/intents")
@login_required("admin")
def admin_intents() -> Any:
    """Every intent: examples, recent volume, F1 of the active model."""
    since = utcnow() - timedelta(days=7)
    with runtime().Session() as db_session, db_session.begin():  # the first read may seed
        examples = training_store.examples(db_session=db_session, data_dir=_data_dir())
        volume = Counter(
            dict(
                db_session.execute(
                    select(Turn.intent, func.count())
                    .where(Turn.received_at >= since)
                    .group_by(Turn.intent)
                ).all()
            )
        )
        current = versions.active(db_session=db_session)
    scores = (current.report or {}).get("per_intent", {}) if current else {}
    return render_template(
        "admin_intents.html", examples=examples, volume=volume, scores=scores, current=current
    )


def _examples_of(intent: str) -> list[str] | None:
    with runtime().Session() as db_session, db_session.begin():
        return training_store.examples(db_session=db_session, data_dir=_data_dir()).get(intent)


@bp.route("/admin/intents/<intent>", methods=["GET", "POST"])
@login_required("admin")
def admin_intent(intent: str) -> Any:
    """One intent's examples: add, edit, delete (validated before the data changes)."""
    if _examples_of(intent) is None:
        abort(404)
    if request.method == "POST":
        action = request.form.get("action", "")
        text, old = request.form.get("text", ""), request.form.get("old", "")
        if action not in ("add", "edit", "delete"):
            abort(400)
        try:
            training_store.save(
                sessions=runtime().Session,
                change=Change(action, intent, text, old),
                actor=g.user,
                data_dir=_data_dir(),
            )
        except TrainingDataError as exc:
            flash(f"Not saved: {exc}", "error")
            return render_template(
                "admin_intent.html", intent=intent, examples=_examples_of(intent), draft=text
            ), 400
        flash(f"Saved; the training data passed rasa data validate ({action}).")
        return redirect(url_for("console.admin_intent", intent=intent))
    return render_template(
        "admin_intent.html", intent=intent, examples=_examples_of(intent), draft=""
    )


@bp.route("/admin/candidates", methods=["GET", "POST"])
@login_required("admin")
def admin_candidates() -> Any:
    """Flagged and low-confidence turns: accept (maybe relabelled) or discard."""
    rt = runtime()
    if request.method == "POST":
        cid = request.form.get("id", type=int)
        intent = request.form.get("intent", "")
        with rt.Session() as db_session:
            candidate = db_session.get(TrainingCandidate, cid)
            if candidate is None or candidate.status != "pending":
                abort(404)
        try:
            if request.form.get("action") == "discard":
                with rt.Session() as db_session, db_session.begin():
                    curation.discard(
                        db_session=db_session,
                        candidate=db_session.get(TrainingCandidate, cid),
                        user=g.user,
                    )
                flash("Discarded.")
            else:
                if intent not in all_intents():
                    abort(400, "pick an intent")
                curation.accept(
                    sessions=rt.Session,
                    candidate_id=candidate.id,
                    intent=intent,
                    user=g.user,
                    data_dir=_data_dir(),
                )
                flash(f"Added to {intent}; it is used from the next training.")
        except TrainingDataError as exc:
            flash(f"Not added: {exc}", "error")
        return redirect(url_for("console.admin_candidates"))
    with rt.Session() as db_session, db_session.begin():
        curation.sync_low_confidence(db_session=db_session)
        rows = curation.pending(db_session=db_session)
        dupes = curation.duplicates(db_session=db_session, candidates=rows, data_dir=_data_dir())
    return render_template("admin_candidates.html", rows=rows, dupes=dupes, intents=all_intents())


@bp.route("/admin/models", methods=["GET", "POST"])
@login_required("admin")
def admin_models() -> Any:
    """Every language's versions and its active one; start a training (one at a time)."""
    rt = runtime()
    if request.method == "POST":
        language = request.form.get("language", DEFAULT)
        if language not in LANGUAGES:
            abort(400, "unknown language")
        try:
            with rt.Session() as db_session, db_session.begin():
                version = versions.start_training(
                    db_session=db_session,
                    user=g.user,
                    epochs=rt.settings.train_epochs,
                    language=language,
                )
                version_id = version.id
        except versions.VersionError as exc:
            flash(str(exc), "error")
            return redirect(url_for("console.admin_models")), 303
        versions.launch(version_id, job_env(rt.settings))
        flash(f"Training {LANGUAGES[language].name} version {version_id} started.")
        return redirect(url_for("console.admin_model", version_id=version_id))
    with rt.Session() as db_session:
        rows = list(db_session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))
        busy = versions.running(db_session=db_session)
        recent = jobs.recent(db_session=db_session, limit=8)
        current = {
            code: versions.active(db_session=db_session, language=code) for code in LANGUAGES
        }
        replicas = fleet.everyone(db_session=db_session)
        gone_after = timedelta(seconds=rt.settings.replica_gone_seconds)
        seen = {r.id for r in fleet.live(db_session=db_session, gone_after=gone_after)}
        targets = {code: fleet.wanted(db_session=db_session, language=code) for code in LANGUAGES}
    latest = next((job for job in recent if job.kind == "activate"), None)
    summary = [(row, current[code], servers_for(rt.nlu, code)) for code, row in LANGUAGES.items()]
    return render_template(
        "admin_models.html",
        rows=rows,
        busy=busy,
        recent=recent,
        activation=latest,
        languages=LANGUAGES,
        summary=summary,
        replicas=replicas,
        seen=seen,
        targets=targets,
    )


@bp.get("/admin/jobs/<int:job_id>/progress")
@login_required("admin")
def admin_job_progress(job_id: int) -> Any:
    """A job's live state for the page: status, each replica's state, the outcome."""
    with runtime().Session() as db_session:
        job = db_session.get(Job, job_id)
        if job is None:
            abort(404)
    return jsonify(
        kind=job.kind,
        status=job.status,
        intent=job.detail.get("intent"),
        progress=job.progress,
        result=job.result,
        error=job.error,
        heartbeat_at=job.heartbeat_at.isoformat() if job.heartbeat_at else None,
    )


def _log_tail(version: ModelVersion, lines: int = 40) -> str:
    """The training log's end: this machine's file while it trains here, else the stored copy."""
    if version.log_path and Path(version.log_path).exists():
        text = Path(version.log_path).read_text(errors="replace")
    else:
        with runtime().Session() as db_session:
            stored = model_store.extra(
                db_session=db_session, version_id=version.id, name="train.log"
            )
        text = stored.decode(errors="replace") if stored else ""
    return "\n".join(text.splitlines()[-lines:])


@bp.get("/admin/models/<int:version_id>/progress")
@login_required("admin")
def admin_model_progress(version_id: int) -> Any:
    """Live progress for the page: status, epoch percentage, the log's last lines."""
    with runtime().Session() as db_session:
        version = db_session.get(ModelVersion, version_id)
        if version is None:
            abort(404)
    return jsonify(
        status=version.status,
        progress=version.progress,
        log=_log_tail(version),
        train_seconds=version.train_seconds,
        macro_f1=version.macro_f1,
        error=version.error,
    )


@bp.get("/admin/models/<int:version_id>")
@login_required("admin")
def admin_model(version_id: int) -> Any:
    """One version: progress or its evaluation next to the active version's."""
    with runtime().Session() as db_session:
        version = db_session.get(ModelVersion, version_id)
        if version is None:
            abort(404)
        current = versions.active(db_session=db_session, language=version.language)
        snap = training_store.stored_snapshot(db_session=db_session, version_id=version_id)
    mine = (version.report or {}).get("per_intent", {})
    theirs = (current.report or {}).get("per_intent", {}) if current else {}
    before = (current.report or {}).get("predictions", {}) if current else {}
    after = (version.report or {}).get("predictions", {})
    changed = [
        (text, before[text], after[text])
        for text in sorted(after)
        if text in before and before[text] != after[text]
    ]
    return render_template(
        "admin_model.html",
        version=version,
        current=current,
        mine=mine,
        theirs=theirs,
        changed=changed,
        log=_log_tail(version),
        snapshot=snap,
    )


@bp.get("/admin/models/<int:version_id>/nlu.yml")
@login_required("admin")
def admin_model_data(version_id: int) -> Any:
    """The exact training data a version learned from, as stored when its training started."""
    with runtime().Session() as db_session:
        snap = training_store.stored_snapshot(db_session=db_session, version_id=version_id)
    if snap is None:
        abort(404)
    return Response(
        snap.yaml,
        mimetype="application/x-yaml",
        headers={
            "Content-Disposition": f'attachment; filename="nlu-v{version_id}.yml"',
            "X-Content-SHA256": snap.sha256,
        },
    )


@bp.get("/admin/models/<int:version_id>/confusion.png")
@login_required("admin")
def admin_model_confusion(version_id: int) -> Any:
    """The confusion matrix image `rasa test nlu` drew for this version."""
    with runtime().Session() as db_session:
        image = model_store.extra(
            db_session=db_session, version_id=version_id, name="confusion.png"
        )
        version = db_session.get(ModelVersion, version_id)
    if image is not None:  # stored with the model: every machine's console shows it
        return Response(image, mimetype="image/png")
    path = Path((version.report or {}).get("confusion_matrix", "")) if version else None
    if not path or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png")


@bp.post("/admin/models/<int:version_id>/activate")
@login_required("admin")
def admin_model_activate(version_id: int) -> Any:
    """Record the wanted version and return at once; each machine's reconciler rolls it out."""
    rt = runtime()
    try:
        with rt.Session() as db_session, db_session.begin():
            job = activation.enqueue(
                db_session=db_session,
                version_id=version_id,
                user=g.user,
                reason=request.form.get("reason", ""),
                rollback=request.form.get("rollback") == "1",
                gone_after=timedelta(seconds=rt.settings.replica_gone_seconds),
            )
            job_id, intent = job.id, job.detail["intent"]
    except versions.VersionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.admin_model", version_id=version_id), 303)
    flash(f"{intent[0].upper()}{intent[1:]} (job {job_id}); progress below.")
    return redirect(url_for("console.admin_models"), 303)
