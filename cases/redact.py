"""One redaction step for residents' free text, run before it is stored, echoed, logged or sent.

Removes payment cards (Luhn-checked), SSNs, card security codes, phone numbers, e-mail
addresses and self-introduced names. Every pattern is linear in the text's length: regexes
whose repeated parts cannot overlap, and a card search whose window is bounded by 19 digits,
so a 1,600-character text of digit groups costs microseconds, not seconds.
"""

from __future__ import annotations

import re

CARD = "[card number removed]"
PHONE = "[phone removed]"
EMAIL = "[email removed]"
NAME = "[name removed]"

# Runs of digit groups joined by one space or hyphen: the places a card number can hide.
DIGIT_RUN_RE = re.compile(r"(?<![\d-])\d+(?:[ -]\d+)*")
GROUP_RE = re.compile(r"\d+")
SSN_RE = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])")
CVV_RE = re.compile(r"\b(cvv|cvc|security code)\s{0,3}(?:is)?\s{0,3}:?\s{0,3}\d{3,4}\b", re.I)
# North American numbers ((555) 123-4567, 555.123.4567, +1 555 123 4567, 5551234567) and
# international ones written with a leading +. N11 codes are never area codes, so case
# numbers (311-000123, 311-0001234) do not fit.
PHONE_RE = re.compile(
    r"(?<![\w+-])(?:\+?1[ .-]?)?(?!\(?[2-9]11)(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?![\w-])"
    r"|(?<![\w+])\+\d{1,3}(?:[ .-]?\d{2,4}){2,5}(?![\w-])"
)
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
# "my name is Ana Ruiz", "name: ana ruiz", "regards, Ana": one or two words after the phrase.
NAME_RE = re.compile(
    r"\b(my name is|my name's|name is|name:|call me|regards,?|sincerely,?|signed,?)"
    r"(\s{1,3})([A-Za-z][A-Za-z'.-]{0,40})(?:(\s{1,3})([A-Z][A-Za-z'.-]{0,40}))?",
    re.I,
)
NOT_NAMES = set(
    [
        "not",
        "no",
        "a",
        "an",
        "the",
        "and",
        "or",
        "at",
        "on",
        "in",
        "to",
        "from",
        "for",
        "is",
        "that",
        "this",
        "it",
        "back",
        "when",
        "if",
        "please",
        "later",
        "asap",
        "now",
        "today",
        "tomorrow",
        "tonight",
        "about",
        "regarding",
        "with",
    ]
)
MIN_CARD, MAX_CARD = 13, 19


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn check every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _cards(match: re.Match[str]) -> str:
    """Redact every card number in a run of digit groups, longest first from the left.

    A window starts and ends on group boundaries and holds at most 19 digits, so each
    group starts at most 19 windows: linear in the run's length.
    """
    run = match.group(0)
    groups = [(m.start(), m.end()) for m in GROUP_RE.finditer(run)]
    pieces: list[str] = []
    done = 0
    i = 0
    while i < len(groups):
        best: int | None = None
        digits = ""
        for j in range(i, len(groups)):
            digits += run[groups[j][0] : groups[j][1]]
            if len(digits) > MAX_CARD:
                break
            if len(digits) >= MIN_CARD and luhn_ok(digits):
                best = j
        if best is None:
            i += 1
            continue
        pieces.append(run[done : groups[i][0]] + CARD)
        done = groups[best][1]
        i = best + 1
    return "".join(pieces) + run[done:] if pieces else run


def _name(match: re.Match[str]) -> str:
    lead, space, first = match.group(1), match.group(2), match.group(3)
    if first.lower() in NOT_NAMES:
        return match.group(0)
    second = match.group(5)
    if second and second.lower() in NOT_NAMES:
        return f"{lead}{space}{NAME}{match.group(4)}{second}"
    return f"{lead}{space}{NAME}"


def redact(text: str) -> str:
    """Replace cards, SSNs, security codes, phone numbers, e-mails and names with placeholders."""
    text = DIGIT_RUN_RE.sub(_cards, text)
    text = SSN_RE.sub("[ssn removed]", text)
    text = CVV_RE.sub(lambda m: f"{m.group(1)} [removed]", text)
    text = EMAIL_RE.sub(EMAIL, text)
    text = PHONE_RE.sub(PHONE, text)
    return NAME_RE.sub(_name, text)
