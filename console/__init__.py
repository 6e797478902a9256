"""The staff console: supervisors review conversations, work handoffs and cases; admins manage."""

from __future__ import annotations

import logging

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from cases.app_secrets import COOKIE_KEY, shared_secret
from cases.staff_sessions import LIFETIME


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened without building a serializer when the request
    carries no session cookie (every webhook and public request: only staff have one)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


class StoredKeySessionInterface(CookieSessionInterface):
    """Signed cookies whose key, without CIVICLINE_SECRET_KEY, is the one kept in the store.

    Fetched on first use rather than at start-up, so a worker boots even while the database
    is unreachable (and /healthz can say so); every worker and machine reads the same key.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            app.secret_key = shared_secret(
                sessions=app.extensions["civicline"].Session, name=COOKIE_KEY
            )
        return super().get_signing_serializer(app)


def init_app(app: Flask) -> None:
    """Register the console (pages, CLI) and its session cookie settings."""
    from console import (  # noqa: F401  (importing registers the views)
        account,
        admin,
        auth,
        cases,
        conversations,
        dashboard,
        deadlines,
        handoffs,
        languages,
        nlu_admin,
        notices,
        photos,
    )
    from console.blueprint import bp
    from console.cli import console_cli
    from console.deadlines_cli import cases_cli
    from console.nlu_cli import nlu_cli
    from console.retention_cli import retention_cli

    settings = app.extensions["civicline"].settings
    if settings.secret_key:
        app.secret_key = settings.secret_key
        app.session_interface = CookieSessionInterface()
    else:
        logging.getLogger(__name__).warning(
            "CIVICLINE_SECRET_KEY is not set: console cookies are signed with a key generated "
            "once and kept in the database (app_secrets); set CIVICLINE_SECRET_KEY in production"
        )
        app.session_interface = StoredKeySessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_NAME="civicline_session",
        PERMANENT_SESSION_LIFETIME=LIFETIME,  # the store ends sessions after this too
    )
    app.register_blueprint(bp)
    app.cli.add_command(console_cli)
    app.cli.add_command(nlu_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(cases_cli)
