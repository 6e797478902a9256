"""HTTP hardening shared by every blueprint: which proxies to believe, and security headers."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Pages and scripts come only from this site: no inline script or style, no framing, forms post
# here only. The console's JavaScript lives in console/static/ for this reason.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the city's other hosts are not ours


def init_app(app: Flask, trusted_proxies: int) -> None:
    """Believe X-Forwarded-For/-Proto from `trusted_proxies` hops only; add headers everywhere.

    With 0 (the default) the headers are ignored, so a client cannot choose its own address
    (login limits, audit log) or scheme (Twilio signature URL, HSTS). Host, port and prefix are
    never taken from headers: many proxies pass a client's X-Forwarded-Host through unchanged.
    """
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=0, x_port=0
    )
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    """CSP, nosniff, no framing, same-origin referrers; HSTS only on https (after ProxyFix)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
