"""GET /healthz: ok, degraded (some Rasa replicas down) or unavailable, for load balancers.

Every language's replicas are checked; only the default (English) ones all being down makes the
app unavailable, since a language without servers is parsed by English ones.

Anyone can call it, so the public answer is one word; the checks behind it are shown only to
callers on this machine (loopback), and even then without URLs, tokens or exception text.
"""

from __future__ import annotations

from ipaddress import ip_address

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from nlu.client import LanguageRouter, NLUError, RasaClient

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


def _replicas() -> dict[str, list[str]]:
    """'ok' or 'down' per Rasa replica, in order, per language (English first)."""
    nlu = current_app.extensions["civicline"].nlu
    if isinstance(nlu, LanguageRouter):
        return {lang: _states(client) for lang, client in nlu.clients.items()}
    if isinstance(nlu, RasaClient):
        return {"en": _states(nlu)}
    return {"en": ["ok"]}  # an in-process stand-in (tests)


def _states(nlu: RasaClient) -> list[str]:
    """'ok', 'no model' or 'down' for each server of one replica set."""
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
    database, languages = _database(), _replicas()
    replicas = languages.get("en", [])
    every = [state for states in languages.values() for state in states]
    if database != "ok" or replicas.count("ok") == 0:
        status, code = "unavailable", 503
    elif every.count("ok") < len(every):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body: dict[str, object] = {"status": status}
    if _loopback():
        body["checks"] = {"database": database, "rasa": replicas} | {
            f"rasa_{lang}": states for lang, states in languages.items() if lang != "en"
        }
    return jsonify(body), code
