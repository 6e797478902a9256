"""Per-address rate limits (flask-limiter) on what the public can reach without a key.

Webhooks are never limited (Twilio signs them and retries); the Open311 API, the public case
pages (/c/...) and the console's sign-in form are, so one address cannot take the workers that
residents' texts need (nor try case page tokens quickly). Counters live in each process's
memory: nothing to share between machines, and each machine's limit is its own (behind N
machines an address gets at most N times the limit). The client address is the one werkzeug's
ProxyFix trusts (CIVICLINE_TRUSTED_PROXIES), so X-Forwarded-For cannot be forged past it.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from settings import Settings


def _too_many(limit: RequestLimit) -> Response:
    """429 in the format the client asked for (Open311 errors for the API)."""
    if request.path.startswith("/open311/"):
        body = [{"code": 429, "description": f"rate limit exceeded: {limit.limit}"}]
        response = jsonify(body)
    else:
        response = Response(
            "Too many attempts from your address. Please wait a minute and try again.",
            mimetype="text/plain",
        )
    response.status_code = 429
    return response


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """Rate-limit the public API, public pages and the sign-in form; exempt webhooks, /healthz."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri="memory://",
        headers_enabled=True,
        on_breach=_too_many,
        enabled=settings.rate_limits,
    )
    # the API, the approved photos it links to, and case pages (whose token must not be
    # guessable by brute force), and the open data set
    for public in ("open311", "media", "public", "open_data"):
        if public in app.blueprints:
            limiter.limit(settings.public_rate_limit)(app.blueprints[public])
    login = app.view_functions.get("console.login")
    if login is not None:
        app.view_functions["console.login"] = limiter.limit(
            settings.login_rate_limit, methods=["POST"]
        )(login)
    app.extensions["civicline.limiter"] = limiter  # flask-limiter keeps only a weak reference
    return limiter
