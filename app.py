"""Application factory: composes the blueprints over one runtime (served as `app:create_app()`)."""

from __future__ import annotations

import logging

from flask import Flask

from nlu.client import NLU
from runtime import build_runtime
from settings import Settings


def create_app(settings: Settings | None = None, *, nlu: NLU | None = None) -> Flask:
    """Build the Flask app from settings (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["civicline"] = build_runtime(settings, nlu)
    if not settings.twilio_auth_token:
        logging.getLogger(__name__).warning("TWILIO_AUTH_TOKEN is not set: every webhook gets 403")

    from console import init_app as init_console
    from open311.media import bp as media_bp
    from open311.open_data_views import bp as open_data_bp
    from open311.open_data_views import open_data_cli
    from open311.views import init_app as init_open311
    from ops.limits import init_limits
    from ops.metrics import init_app as init_metrics
    from ops.views import bp as ops_bp
    from outbound.cli import outbox_cli
    from public import init_app as init_public
    from web_security import init_app as init_web_security
    from webhooks.sms import bp as sms_bp
    from webhooks.voice import bp as voice_bp

    if settings.role not in ("all", "webhooks", "web"):
        raise ValueError("CIVICLINE_ROLE must be all, webhooks or web")
    # A webhook pool serves Twilio only, so public and console traffic cannot take its workers.
    if settings.role in ("all", "webhooks"):
        app.register_blueprint(sms_bp)
        app.register_blueprint(voice_bp)
    app.register_blueprint(ops_bp)
    if settings.role in ("all", "web"):
        init_open311(app)
        app.register_blueprint(media_bp)  # approved photos, public
        app.register_blueprint(open_data_bp)  # /open-data/service_requests.{csv,json}
        init_console(app)
        init_public(app)
    # request ids, latency, JSON request logs, /metrics; before the limits, so a request they
    # refuse (429) is timed and logged too
    init_metrics(app, settings)
    init_limits(app, settings)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(open_data_cli)
    init_web_security(app, settings.trusted_proxies)
    return app
