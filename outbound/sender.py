"""Sending one SMS through Twilio's REST client (or a dry-run log for development)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)
# Twilio error codes that will not get better with a retry (opted out, bad or non-mobile number).
PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 30004, 30006}


class SendError(RuntimeError):
    """Sending failed; permanent failures are not retried."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class SmsSender(Protocol):
    """Something that sends one text message and returns the provider's message id."""

    def send(self, to: str, body: str) -> str: ...

    def find_sent(self, to: str, body: str, since: datetime) -> str | None: ...


class TwilioSender:
    """Sends with twilio.rest.Client; api_url points it at a stand-in server in tests."""

    def __init__(self, account_sid: str, auth_token: str, from_: str, api_url: str | None = None):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=15))
        if api_url:
            self.client.api.base_url = api_url.rstrip("/")
        self.from_ = from_

    def send(self, to: str, body: str) -> str:
        """Send and return the message SID; raises SendError."""
        try:
            message = self.client.messages.create(to=to, from_=self.from_, body=body)
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_CODES or (
                400 <= exc.status < 500 and exc.status != 429
            )
            message = f"twilio {exc.status} code {exc.code}: {exc.msg}"
            raise SendError(message, permanent=permanent) from exc
        except (TwilioException, OSError) as exc:
            raise SendError(f"twilio unreachable: {exc}", permanent=False) from exc
        return str(message.sid)

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        """The SID of a message with this body already sent to `to` since `since`, if any."""
        try:
            sent = self.client.messages.list(
                to=to, from_=self.from_, date_sent_after=since - timedelta(minutes=5), limit=50
            )
        except (TwilioException, OSError) as exc:
            raise SendError(f"twilio unreachable: {exc}", permanent=False) from exc
        return next((str(m.sid) for m in sent if m.body == body), None)


class DryRunSender:
    """Development stand-in: logs the message instead of sending it."""

    def send(self, to: str, body: str) -> str:
        """Log and return a fake SID."""
        log.warning("DRY RUN text to %s: %s", to, body)
        return "DRYRUN" + secrets.token_hex(8)

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        """Nothing is ever really sent in a dry run."""
        return None
