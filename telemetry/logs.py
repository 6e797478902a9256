"""JSON log lines through the standard library: a small Formatter instead of a dependency
(python-json-logger would add a package for ~20 lines, and we want a fixed, short set of keys)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from telemetry import request_id

REQUEST_LOGGER = "civicline.request"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the request id, and `extra={"fields":
    {...}}` (one dict, so formatting never walks the record's two dozen attributes)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (exceptions as text)."""
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := request_id():
            line["request_id"] = rid
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def configure_request_log(stream: object = None) -> logging.Logger:
    """The `civicline.request` logger, writing JSON lines to stderr once (idempotent)."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if not any(getattr(h, "_civicline_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
        handler.setFormatter(JsonFormatter())
        handler._civicline_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
