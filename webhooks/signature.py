"""Twilio webhook signatures, checked against the public URL Twilio called.

Two documented schemes:
- default: X-Twilio-Signature is base64 HMAC-SHA1 of URL + sorted form fields, keyed with the
  account auth token (TWILIO_AUTH_TOKEN, or TWILIO_AUTH_TOKEN_PREVIOUS while rotating);
- Webhooks SharedKey (Twilio's webhook configuration API, public beta): Twilio adds
  X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256 (or HMAC_SHA1) and
  signs the same string with the SharedKey secret (TWILIO_WEBHOOK_SHARED_KEY[_PREVIOUS]).
  The signature stays in X-Twilio-Signature; there is no separate SHA-256 signature header.
JSON bodies are covered by the bodySHA256 query parameter, which is checked against the body.
Every candidate secret is computed and compared with hmac.compare_digest, whichever matches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import wraps
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator, add_port, remove_port

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
ALGORITHMS = ("HMAC_SHA1", "HMAC_SHA256")


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


def _algorithm(settings_header: str) -> str | None:
    """The algorithm a SharedKey signature names; None when it is not one we support."""
    for part in settings_header.split(","):
        name, _, value = part.partition("=")
        if name.strip() == "algorithm":
            algorithm = value.strip().upper()
            return algorithm if algorithm in ALGORITHMS else None
    return "HMAC_SHA1"


def _signed_params(req: Request, url: str) -> Any:
    """The fields the signature covers (all values of repeated ones); None if the body is wrong."""
    if req.mimetype != "application/json":
        return req.form  # a MultiDict: every value of a repeated field is signed
    wanted = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
    actual = hashlib.sha256(req.get_data()).hexdigest()
    return {} if wanted and hmac.compare_digest(wanted.lower(), actual) else None


def signature_match(
    req: Request, base: str, secrets: Sequence[str | None], algorithm: str = "HMAC_SHA1"
) -> int | None:
    """Which of `secrets` signed the request (its index), or None; constant-time per secret."""
    signature = req.headers.get(SIGNATURE_HEADER, "").encode()
    url = public_url(req, base)
    params = _signed_params(req, url)
    matched = None
    for index, secret in enumerate(secrets):
        if not secret:
            continue
        validator = RequestValidator(secret)
        parsed = urlsplit(url)
        for variant in {remove_port(parsed), add_port(parsed)}:  # Twilio signs either form
            expected = validator.compute_signature(variant, params or {}, algorithm).encode()
            if hmac.compare_digest(expected, signature) and matched is None:
                matched = index
    if not signature or params is None:
        return None
    return matched


def signature_ok(
    req: Request, auth_token: str, base: str, previous_token: str | None = None
) -> bool:
    """Whether the request carries a valid auth-token X-Twilio-Signature."""
    if not auth_token:
        return False
    return signature_match(req, base, [auth_token, previous_token]) is not None


def check_request(req: Request, settings: Any) -> bool:
    """Validate a webhook by whichever scheme it uses, logging (never the secret) what matched."""
    log = current_app.logger
    settings_header = req.headers.get(SETTINGS_HEADER)
    if settings_header is None:
        if not settings.twilio_auth_token:
            return False
        secrets = [settings.twilio_auth_token, settings.twilio_auth_token_previous]
        matched = signature_match(req, settings.public_url, secrets)
        if matched == 1:
            log.warning(
                "webhook %s signed with the previous auth token (TWILIO_AUTH_TOKEN_PREVIOUS): "
                "rotation is not finished",
                req.path,
            )
        return matched is not None
    algorithm = _algorithm(settings_header)
    keys = [settings.twilio_webhook_shared_key, settings.twilio_webhook_shared_key_previous]
    if not settings.twilio_webhook_shared_key:
        log.warning(
            "webhook %s is SharedKey-signed but TWILIO_WEBHOOK_SHARED_KEY is unset", req.path
        )
        return False
    if algorithm is None:
        log.warning("webhook %s names an unsupported signature algorithm", req.path)
        return False
    matched = signature_match(req, settings.public_url, keys, algorithm)
    if matched == 1:
        log.warning(
            "webhook %s signed with the previous shared key (TWILIO_WEBHOOK_SHARED_KEY_PREVIOUS)",
            req.path,
        )
    return matched is not None


def twilio_signed(view: Any) -> Any:
    """Reject (403) any request without a valid Twilio signature."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.extensions["civicline"].settings
        if not check_request(request, settings):
            current_app.logger.warning(
                "rejected unsigned or wrongly signed request to %s", request.path
            )
            abort(403)
        return view(*args, **kwargs)

    return wrapper
