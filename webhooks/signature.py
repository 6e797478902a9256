"""X-Twilio-Signature validation against the public URL Twilio called."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator


def public_url(req: Request, base: str) -> str:
    """The URL Twilio signed: the configured public base, the request path and query string.

    Behind a TLS-terminating proxy the scheme is the one a trusted proxy reported (ProxyFix,
    CIVICLINE_TRUSTED_PROXIES); a client's own X-Forwarded-Proto is never read. The host is
    always the configured one: Twilio calls the URL it was given, and a forwarded host would let
    a signature made for another app on the same Twilio account be replayed here.
    """
    parts = urlsplit(base)
    original = req.environ.get("werkzeug.proxy_fix.orig", {}).get("wsgi.url_scheme")
    forwarded = original is not None and req.scheme != original
    scheme = req.scheme if forwarded else parts.scheme or "https"
    query = req.query_string.decode()
    path = parts.path.rstrip("/") + req.path
    return f"{scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")


def signature_ok(req: Request, auth_token: str, base: str) -> bool:
    """Whether the request carries a valid X-Twilio-Signature."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    params = req.form.to_dict(flat=True) if req.mimetype != "application/json" else {}
    return RequestValidator(auth_token).validate(public_url(req, base), params, signature)


def twilio_signed(view: Any) -> Any:
    """Reject (403) any request without a valid Twilio signature."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.extensions["civicline"].settings
        if not signature_ok(request, settings.twilio_auth_token or "", settings.public_url):
            current_app.logger.warning(
                "rejected unsigned or wrongly signed request to %s", request.path
            )
            abort(403)
        return view(*args, **kwargs)

    return wrapper
