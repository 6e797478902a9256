"""GET /healthz: 200 only when the app, the database and the Rasa server are all ready."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from nlu.client import NLUError, RasaClient

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Report readiness of each dependency; 503 with the reasons if any is not ready."""
    runtime = current_app.extensions["civicline"]
    checks: dict[str, str] = {"app": "ok"}
    try:
        with runtime.db.connect() as conn:
            conn.execute(text("SELECT 1 FROM cases LIMIT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any database failure means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"  # details go to the log only
        current_app.logger.warning("healthz: database not ready: %s", exc)
    nlu = runtime.nlu
    if isinstance(nlu, RasaClient):
        states = []
        for n, url in enumerate(nlu.urls, 1):  # anyone can call this: no URLs, tokens or paths
            try:
                model = nlu.status(url).get("model_file")
                states.append("ok" if model else f"error: server {n} has no model loaded")
            except NLUError as exc:
                states.append(f"error: server {n} of {len(nlu.urls)} unreachable")
                current_app.logger.warning("healthz: rasa server %d: %s", n, exc)
        ready = [s for s in states if s.startswith("ok")]
        checks["rasa"] = ready[0] if ready else "; ".join(states)
    else:
        checks["rasa"] = "ok (in-process stand-in)"
    ready = all(v.startswith("ok") for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
