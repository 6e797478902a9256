"""The current request's id, in a contextvar, so the NLU client and the outbox can log and store
it without importing Flask (this package imports only the standard library and
prometheus_client, so every layer, `cases/` included, may use it)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("civicline_request_id", default=None)
VALID = re.compile(r"^[A-Za-z0-9-]{8,64}$")  # a caller's id is kept only if it looks like one


def request_id() -> str | None:
    """The id of the request (or worker step) this code runs for, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Make `value` the current id (None: outside any request)."""
    _request_id.set(value)


def new_request_id(incoming: str | None = None) -> str:
    """A proxy's X-Request-ID when it is short and plain, else a fresh uuid4 hex."""
    if incoming and VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex
