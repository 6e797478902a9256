"""The Prometheus metrics, and the tiny calls that count them, so `bot/`, `nlu/` and the web layer
record what happened without knowing about Prometheus or Flask.

Multiprocess mode (gunicorn) needs PROMETHEUS_MULTIPROC_DIR set before prometheus_client is
first imported in a worker; gunicorn.conf.py sets it in the master, before any fork.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Histogram

# Twilio waits 15 s at most; a reply over 2 s is slow. Buckets around those.
HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0)
NLU_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

HTTP_DURATION = Histogram(
    "civicline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (never the raw path).",
    ["route", "method", "status"],
    buckets=HTTP_BUCKETS,
)
NLU_DURATION = Histogram(
    "civicline_nlu_parse_duration_seconds",
    "Time for one NLU parse (all replicas tried), by language and served model version.",
    ["language", "model_version"],
    buckets=NLU_BUCKETS,
)
NLU_PARSES = Counter(
    "civicline_nlu_parses",
    "NLU parses by outcome: understood, fallback (nlu_fallback or no intent) or error.",
    ["language", "model_version", "outcome"],
)
TURNS = Counter(
    "civicline_turns",
    "Conversation turns handled (committed), by channel and the NLU's intent.",
    ["channel", "intent"],
)
CASES_FILED = Counter(
    "civicline_cases_filed",
    "Cases filed by the bot, by Open311 service code.",
    ["service_code"],
)

MAX_LABEL = 64
_model_source: Callable[[str], str | None] | None = None


def _label(value: str | None, default: str = "none") -> str:
    """A label value kept short and never empty (intents and codes come from our own data)."""
    return (value or default)[:MAX_LABEL]


def set_model_version_source(source: Callable[[str], str | None] | None) -> None:
    """Register `source(language)`: the served model version (the source caches it)."""
    global _model_source
    _model_source = source


def model_version(language: str) -> str:
    """The model version label for this language ('unknown' without a source or on error)."""
    if _model_source is None:
        return "unknown"
    try:
        return _label(_model_source(language), "unknown")
    except Exception:  # a metrics label must never fail a parse
        return "unknown"


def http_request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered HTTP request (route is the URL rule, e.g. /twilio/sms, or 'unmatched')."""
    HTTP_DURATION.labels(route, method, str(status)).observe(seconds)


def nlu_parse(language: str, outcome: str, seconds: float) -> None:
    """One NLU parse: how long it took and whether it understood the message."""
    version = model_version(language)
    NLU_DURATION.labels(language, version).observe(seconds)
    NLU_PARSES.labels(language, version, outcome).inc()


def turn(channel: str, intent: str | None) -> None:
    """One committed turn ('none' when nothing was parsed: keywords, keys, danger, NLU down)."""
    TURNS.labels(channel, _label(intent)).inc()


def case_filed(service_code: str) -> None:
    """One case filed by the bot."""
    CASES_FILED.labels(_label(service_code)).inc()
