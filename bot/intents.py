"""Reading the NLU's answer the way the dialogue needs it: what to ask, what to keep, runner-ups."""

from __future__ import annotations

import re

from bot import corrections
from bot.catalog import Catalog
from bot.dialogue import Dialogue
from cases.redact import PHONE_RE
from nlu.client import FALLBACK_INTENT, Parse

# A check_status guess without a case number is a report if a service ranks this high and the
# message does not ask about a case ("call me back at 555 010 2288" is not a case number).
REPORT_OVER_STATUS = 0.1
STATUS_WORDS = (
    *("status", "update", "case", "ticket", "report number", "follow up", "reference"),
    *("estado", "estatus", "caso", "folio", "seguimiento", "numero de reporte"),
)
# Redaction placeholders ("[phone removed]") and any phone number: no intent in either.
NOT_FOR_NLU = re.compile(rf"\[[a-z ]{{1,20}} removed\]|{PHONE_RE.pattern}")


def for_nlu(text: str) -> str:
    """What the NLU is asked: phone numbers carry no intent and look like case numbers to it."""
    return NOT_FOR_NLU.sub(" ", text).strip() or text


def top_intents(parse: Parse | None, n: int = 3) -> list[dict[str, object]]:
    """The classifier's best n intents with confidences (before the fallback), for review."""
    if parse is None:
        return []
    ranked = [r for r in parse.ranking if r.get("name") != FALLBACK_INTENT][:n]
    return [
        {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 4)}
        for r in ranked
    ]


def runner_up(d: Dialogue) -> str | None:
    """The best intent other than emergency and the fallback, if the classifier offers one."""
    ranked = [
        (float(r.get("confidence") or 0), str(r.get("name")))
        for r in (d.parse.ranking if d.parse else [])
        if r.get("name") not in ("emergency", FALLBACK_INTENT)
    ]
    confidence, name = max(ranked, default=(0.0, ""))
    return name if confidence >= REPORT_OVER_STATUS else None


def report_not_status(d: Dialogue, catalog: Catalog) -> str | None:
    """The service a 'check_status' message really reports, when it names no case at all."""
    said = corrections.words(d.text)
    if d.parse is None or any(word in said for word in STATUS_WORDS):
        return None
    ranked = [
        (float(r.get("confidence") or 0), str(r.get("name")))
        for r in d.parse.ranking
        if r.get("name") in catalog.by_intent
    ]
    best = max(ranked, default=(0.0, ""))
    return best[1] if best[0] >= REPORT_OVER_STATUS else None
