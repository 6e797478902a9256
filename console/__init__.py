"""The staff console: supervisors review conversations, work handoffs and cases; admins manage."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the console (pages, CLI) and its session cookie settings."""
    from console import (  # noqa: F401  (importing registers the views)
        admin,
        auth,
        cases,
        conversations,
        dashboard,
        handoffs,
        nlu_admin,
    )
    from console.blueprint import bp
    from console.cli import console_cli
    from console.nlu_cli import nlu_cli
    from console.retention_cli import retention_cli

    settings = app.extensions["civicline"].settings
    if settings.secret_key:
        app.secret_key = settings.secret_key
    else:
        logging.getLogger(__name__).warning(
            "CIVICLINE_SECRET_KEY is not set: console sign-ins last only as long as this process"
        )
        app.secret_key = secrets.token_urlsafe(32)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_NAME="civicline_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
    )
    app.register_blueprint(bp)
    app.cli.add_command(console_cli)
    app.cli.add_command(nlu_cli)
    app.cli.add_command(retention_cli)
