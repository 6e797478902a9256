"""GET /metrics for Prometheus, and what every request leaves behind: its id (X-Request-ID), its
latency by route template, and one JSON log line without personal data.

/metrics answers callers on this machine, or anyone with `Authorization: Bearer
<CIVICLINE_METRICS_TOKEN>`; everyone else gets a plain 404, so the endpoint is not advertised.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from ipaddress import ip_address

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

import telemetry
from nlu.client import LanguageRouter, RasaClient
from settings import Settings
from telemetry import metrics
from telemetry.logs import configure_request_log
from telemetry.store import ActiveModelVersions, Replica, StoreCollector, probe_replicas

bp = Blueprint("metrics", __name__)
WEBHOOK_CHANNELS = {"sms": "sms", "voice": "voice"}  # blueprint name -> channel
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def init_app(app: Flask, settings: Settings) -> None:
    """Request ids, latency and JSON request logs on every request; /metrics; model labels."""
    runtime = app.extensions["civicline"]
    log = configure_request_log()
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(runtime.Session, lambda: replica_states(runtime.nlu)))
    app.extensions["civicline.metrics"] = store
    metrics.set_model_version_source(ActiveModelVersions(runtime.Session))
    app.register_blueprint(bp)

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = telemetry.new_request_id(request.headers.get("X-Request-ID"))
        telemetry.set_request_id(g.request_id)

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.get("started")
        if started is None:  # a request that failed before before_request ran
            return response
        seconds = time.perf_counter() - started
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
        route = req.url_rule.rule if req.url_rule else "unmatched"  # never the raw path
        status = response.status_code
        metrics.http_request(route, req.method, status, seconds)
        response.headers["X-Request-ID"] = g.request_id
        if log.isEnabledFor(logging.INFO):
            fields: dict[str, object] = {
                "method": req.method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            }
            if channel := WEBHOOK_CHANNELS.get(req.blueprint or ""):
                fields["channel"] = channel
            log.info("request", extra={"fields": fields})
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        telemetry.set_request_id(None)  # nothing after this request is logged under its id


def replica_states(nlu: object) -> list[Replica]:
    """Whether each of this machine's Rasa servers answers now (the fleet table has the rest)."""
    if isinstance(nlu, LanguageRouter):
        clients = list(nlu.clients.items())
    elif isinstance(nlu, RasaClient):
        clients = [(nlu.language, nlu)]
    else:
        return []  # an in-process stand-in (tests): no servers to probe
    servers = [(url, lang) for lang, client in clients for url in client.urls]
    return probe_replicas(servers, clients[0][1].token)


def allowed(settings: Settings) -> bool:
    """A scrape from this machine that no proxy relayed, or one carrying the metrics token.

    Loopback is judged on the socket's own peer, before ProxyFix, and only when no proxy is
    configured and no forwarding header is present: behind a proxy on this machine every
    request's peer is loopback, so there only the token opens /metrics.
    """
    header = request.headers.get("Authorization", "")
    if settings.metrics_token and header.startswith("Bearer "):
        given = header.removeprefix("Bearer ").strip().encode()
        if hmac.compare_digest(given, settings.metrics_token.encode()):
            return True
    if settings.trusted_proxies or any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    peer = peer or request.environ.get("REMOTE_ADDR") or ""
    try:
        return ip_address(peer).is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def scrape() -> Response:
    """The metrics of every worker of this gunicorn (multiprocess mode) plus the store's gauges."""
    runtime = current_app.extensions["civicline"]
    if not allowed(runtime.settings):
        abort(404)
    if os.path.isdir(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or "\0"):  # under gunicorn
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(current_app.extensions["civicline.metrics"])
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
