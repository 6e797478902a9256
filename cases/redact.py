"""Redaction of payment cards and similar identifiers before text is stored or sent on."""

from __future__ import annotations

import re

DIGIT_RUN_RE = re.compile(r"(?<![\d-])\d+(?:[ -]\d+)*")
SSN_RE = re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")
CVV_RE = re.compile(r"\b(cvv|cvc|security code)\s*(?:is)?\s*:?\s*\d{3,4}\b", re.IGNORECASE)


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
    """Redact the longest Luhn-valid card number inside a run of digit groups, keep the rest."""
    run = match.group(0)
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    best: tuple[int, int] | None = None
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i - 1, -1):
            start, end = groups[i][0], groups[j][1]
            digits = re.sub(r"\D", "", run[start:end])
            if 13 <= len(digits) <= 19 and _luhn_ok(digits):
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
                break
    if best is None:
        return run
    return run[: best[0]] + "[card number removed]" + run[best[1] :]


def redact(text: str) -> str:
    """Replace card numbers (Luhn-checked), SSNs and card security codes with placeholders."""
    text = DIGIT_RUN_RE.sub(_card, text)
    text = SSN_RE.sub("[ssn removed]", text)
    return CVV_RE.sub(lambda m: f"{m.group(1)} [removed]", text)
