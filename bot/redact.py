"""Redaction of payment cards and similar identifiers before text is stored or sent on."""

from __future__ import annotations

import re

CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
SSN_RE = re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")
CVV_RE = re.compile(r"\b(cvv|cvc|security code)\s*(?:is|:)?\s*\d{3,4}\b", re.IGNORECASE)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return "[card number removed]"
    return match.group(0)


def redact(text: str) -> str:
    """Replace card numbers (Luhn-checked), SSNs and card security codes with placeholders."""
    text = CARD_RE.sub(_card, text)
    text = SSN_RE.sub("[ssn removed]", text)
    return CVV_RE.sub(lambda m: f"{m.group(1)} [removed]", text)
