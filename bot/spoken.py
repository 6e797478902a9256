"""Speech helpers: numbers said as words become digits; digits are read back one by one."""

from __future__ import annotations

import re

from text_to_num import alpha2digit

from bot import wordlists
from cases.redact import redact

UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
NUMBER_WORDS = set(UNITS) | set(TEENS) | set(TENS) | {"hundred", "double"}


def words_to_digits(text: str, *, language: str = "en") -> str:
    """'four twelve maple avenue' -> '412 maple avenue'; 'three one one zero ...' -> '311...'.

    A run of number words is read the way people say addresses and case numbers: each word
    (or tens + unit pair, or 'N hundred') adds its digits to the end of the number.
    """
    if language == "es":
        return _spanish_to_digits(text)
    words = text.split()
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(_read_run(run))
            run.clear()

    for word in words:
        bare = word.lower().strip(".,!?")
        if bare in NUMBER_WORDS and not (bare in {"o", "oh"} and not run):
            run.append(bare)
        else:
            flush()
            out.append(word)
    flush()
    return " ".join(out)


def _read_run(run: list[str]) -> str:
    digits = ""
    i = 0
    repeat = 1
    while i < len(run):
        word = run[i]
        if word == "double":
            repeat = 2
            i += 1
            continue
        if word in TENS:
            value = TENS[word]
            if i + 1 < len(run) and run[i + 1] in UNITS and UNITS[run[i + 1]]:
                value += UNITS[run[i + 1]]
                i += 1
            piece = str(value)
        elif word in TEENS:
            piece = str(TEENS[word])
        elif word in UNITS:
            piece = str(UNITS[word])
        else:  # "hundred" after a digit: "one hundred" -> 100, "four hundred twelve" -> 412
            if digits and len(digits) >= 1:
                rest = run[i + 1 :]
                tail = _read_run(rest) if rest else ""
                return digits + tail.rjust(2, "0")
            piece = "100"
        digits += piece * repeat
        repeat = 1
        i += 1
    return digits


def spell_digits(text: str, *, language: str = "en") -> str:
    """Digits read one at a time: '311-000123' -> '3 1 1, 0 0 0 1 2 3'.

    The same for every language: the call's voice reads each digit in its own language.
    """
    del language

    def spell(match: re.Match[str]) -> str:
        return ", ".join(" ".join(group) for group in re.split(r"[-–]", match.group(0)))

    return re.sub(r"\d+(?:[-–]\d+)*", spell, text)


def redact_said(text: str, *, voice: bool, language: str = "en") -> str:
    """What a resident said, redacted; on a call, spoken digits count ("four one one one ...")."""
    raw = (text or "").strip()
    if voice:
        as_digits = words_to_digits(raw, language=language)
        redacted = redact(as_digits)
        if redacted != as_digits:  # a card or phone number was said as words
            return redacted.strip()
    return redact(raw).strip()


def _spanish_to_digits(text: str) -> str:
    """'ciento veinte calle elm' -> '120 calle elm'; 'tres uno uno cero ...' -> '311...'."""
    known = wordlists.words("es", "number_words")
    spelled = wordlists.table("es").get("number_spellings") or {}
    tens, units = wordlists.words("es", "number_tens"), wordlists.words("es", "number_units")
    words = text.split()
    bare = [wordlists.fold(w).strip(".,!?;:") for w in words]
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            said = alpha2digit(" ".join(run), "es", threshold=0)
            out.append(re.sub(r"\s+", "", said))  # '3 1 1 0001' said digit by digit is one number
            run.clear()

    for i, word in enumerate(words):
        nxt = bare[i + 1] if i + 1 < len(bare) else ""
        if bare[i] in known:
            run.append(spelled.get(bare[i], bare[i]))
        elif bare[i] == "y" and run and run[-1] in tens and nxt in units:
            run.append("y")  # "cuarenta y cinco"
        else:
            flush()
            out.append(word)
    flush()
    return " ".join(out)
