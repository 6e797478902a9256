"""GET /healthz: ok, degraded (some Rasa replicas down) or unavailable, for load balancers.

Anyone can call it, so the public answer is one word; the checks behind it are shown only to
callers on this machine (loopback), and even then without URLs, tokens or exception text.
"""

from __future__ import annotations

from ipaddress import ip_address

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from nlu.client import NLUError, RasaClient

bp = Blueprint("ops", __name__)


def _loopback() -> bool:
    try:
        return ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _database() -> str:
    runtime = current_app.extensions["civicline"]
    try:
        with runtime.db.connect() as conn:
            conn.execute(text("SELECT 1 FROM cases LIMIT 1"))
    except Exception as exc:  # any database failure means not ready; the class name is enough
        current_app.logger.warning("healthz: database not ready (%s)", exc.__class__.__name__)
        return "down"
    return "ok"


def _replicas() -> list[str]:
    """'ok' or 'down' per Rasa replica, in order."""
    nlu = current_app.extensions["civicline"].nlu
    if not isinstance(nlu, RasaClient):
        return ["ok"]  # an in-process stand-in (tests)
    states = []
    for n, url in enumerate(nlu.urls, 1):
        try:
            states.append("ok" if nlu.status(url).get("model_file") else "no model")
        except NLUError as exc:  # its text can carry the URL and ?token=: log the class only
            states.append("down")
            current_app.logger.warning(
                "healthz: rasa replica %d of %d down (%s)",
                n,
                len(nlu.urls),
                exc.__cause__.__class__.__name__ if exc.__cause__ else "error",
            )
    return states


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 'ok' or 'degraded' (serving, a replica down); 503 'unavailable'."""
    database, replicas = _database(), _replicas()
    up = replicas.count("ok")
    if database != "ok" or up == 0:
        status, code = "unavailable", 503
    elif up < len(replicas):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body: dict[str, object] = {"status": status}
    if _loopback():
        body["checks"] = {"database": database, "rasa": replicas}
    return jsonify(body), code
