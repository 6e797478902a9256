"""Sending one SMS through Twilio's REST client (or a dry-run log for development)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from requests.exceptions import ConnectTimeout
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from cases.outbox import Failure

log = logging.getLogger(__name__)
# twilio's HTTP client logs every request's parameters (To, Body) at INFO: keep it quieter.
_twilio_http_log = logging.getLogger("civicline.outbound.twilio_http")
_twilio_http_log.setLevel(logging.WARNING)
# Twilio error codes a retry will not cure: the recipient or the route is wrong, or they said
# STOP (https://www.twilio.com/docs/api/errors/<code>). Everything else is retried: 401/403
# (e.g. mid auth-token rotation), 429, 5xx and timeouts on the full schedule, and other 4xx
# codes a few times (cases.outbox.CLIENT_ERROR_ATTEMPTS) before they are reported.
PERMANENT_CODES = {
    21211: "invalid 'To' phone number",
    21265: "'To' is a short code",
    21268: "'To' is a premium-rate number",
    21408: "sending to the 'To' region is not enabled (Messaging Geo Permissions)",
    21610: "the recipient replied STOP to this sender",
    21612: "'To' cannot be reached from this sender",
    21614: "'To' is not a mobile number",
    21635: "'To' is a landline",
}
SEND_TIMEOUT = 15.0  # seconds; well inside cases.outbox.LEASE


class SendError(RuntimeError):
    """Sending failed: `kind` says how to retry, `in_doubt` whether Twilio may have it anyway."""

    def __init__(self, message: str, *, kind: Failure, in_doubt: bool = False):
        super().__init__(message)
        self.kind: Failure = kind
        self.in_doubt = in_doubt

    @property
    def permanent(self) -> bool:
        """No retry will help."""
        return self.kind == "permanent"


class SmsSender(Protocol):
    """Something that sends one text message and returns the provider's message id."""

    dry_run: bool

    def send(self, to: str, body: str) -> str: ...

    def find_sent(
        self, to: str, body: str, since: datetime, exclude: Collection[str] = ()
    ) -> str | None: ...


def mask_number(phone: str) -> str:
    """A phone number fit for a log line: +1555…0007."""
    return f"{phone[:5]}…{phone[-4:]}" if len(phone) >= 10 else f"…{phone[-2:]}"


def classify(exc: TwilioRestException) -> SendError:
    """Turn Twilio's answer into a retry decision; the text never quotes Twilio's message."""
    status, code = exc.status, exc.code
    if code in PERMANENT_CODES:
        return SendError(f"twilio {status} code {code}: {PERMANENT_CODES[code]}", kind="permanent")
    where = f"https://www.twilio.com/docs/api/errors/{code}" if code else "no error code"
    message = f"twilio {status} code {code} ({where})"
    if status >= 500:  # Twilio may have created the message before failing
        return SendError(message, kind="retry", in_doubt=True)
    if status in (401, 403, 429):  # credentials mid-rotation, suspended account, rate limit
        return SendError(message, kind="retry")
    if 400 <= status < 500:
        return SendError(message, kind="client")
    return SendError(message, kind="retry", in_doubt=True)


class TwilioSender:
    """Sends with twilio.rest.Client; api_url points it at a stand-in server in tests."""

    dry_run = False

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str | None,
        api_url: str | None = None,
        *,
        messaging_service_sid: str | None = None,
        timeout: float = SEND_TIMEOUT,
    ):
        if not from_ and not messaging_service_sid:
            raise ValueError("a sending number or a Messaging Service is required")
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout, logger=_twilio_http_log),
        )
        if api_url:
            self.client.api.base_url = api_url.rstrip("/")
        self.from_ = from_
        self.messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str) -> str:
        """Send and return the message SID; raises SendError."""
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_}
        )
        try:
            message = self.client.messages.create(to=to, body=body, **sender)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except ConnectTimeout as exc:  # never reached Twilio
            raise SendError("twilio unreachable: connect timeout", kind="retry") from exc
        except (TwilioException, OSError) as exc:  # e.g. a read timeout: Twilio may have it
            raise SendError(
                f"twilio unreachable: {type(exc).__name__}", kind="retry", in_doubt=True
            ) from exc
        return str(message.sid)

    def find_sent(
        self, to: str, body: str, since: datetime, exclude: Collection[str] = ()
    ) -> str | None:
        """The SID of a message with this body sent to `to` since `since`, other than `exclude`."""
        by_number = {} if self.messaging_service_sid else {"from_": self.from_}
        try:
            sent = self.client.messages.list(
                to=to, date_sent_after=since - timedelta(minutes=5), limit=200, **by_number
            )
        except (TwilioException, OSError) as exc:
            raise SendError(
                f"twilio look-up failed: {type(exc).__name__}", kind="retry", in_doubt=True
            ) from exc
        for message in sent:
            if message.body != body or str(message.sid) in exclude:
                continue
            service = getattr(message, "messaging_service_sid", None)
            if self.messaging_service_sid and service != self.messaging_service_sid:
                continue
            return str(message.sid)
        return None


class DryRunSender:
    """Development only: logs that a text would go out (masked number, length), sends nothing."""

    dry_run = True

    def send(self, to: str, body: str) -> str:
        """Log without the number or the words; there is no provider id."""
        log.warning("DRY RUN: text to %s (%d characters) not sent", mask_number(to), len(body))
        return ""

    def find_sent(
        self, to: str, body: str, since: datetime, exclude: Collection[str] = ()
    ) -> str | None:
        """Nothing is ever really sent in a dry run."""
        return None
