"""Public pages residents open without signing in: the case page (/c/311-000123-<token>)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the public pages (the `web` pool serves them, never the webhook pool)."""
    from public.views import bp

    app.register_blueprint(bp)
