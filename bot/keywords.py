"""Words the bot recognises without NLU: SMS compliance keywords and plain answers."""

from __future__ import annotations

import re

# Twilio's default opt-out / opt-in / help keywords (a message that is exactly one of them).
OPT_OUT = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
OPT_IN = {"start", "yes", "unstop", "optin"}
HELP = {"help", "info"}

YES_WORDS = {
    "y",
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "yes please",
    "correct",
    "confirm",
    "ok",
    "okay",
    "sure",
    "right",
    "that's right",
    "thats right",
    "yes file it",
    "file it",
    "go ahead",
    "si",
}
NO_WORDS = {"n", "no", "nope", "nah", "no thanks", "wrong", "incorrect", "not right"}
SKIP_WORDS = {
    "skip",
    "dont know",
    "don't know",
    "idk",
    "not sure",
    "no idea",
    "unknown",
    "i dont know",
    "i don't know",
    "n/a",
}
BACK_TO_BOT = {"menu", "bot", "start over", "restart", "main menu"}


def normalise(text: str) -> str:
    """Lower-case, trim, drop surrounding punctuation and collapse spaces."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip(" .!?,;:'\"")


def compliance_keyword(text: str) -> str | None:
    """'opt_out', 'opt_in' or 'help' when the whole message is a carrier keyword, else None."""
    word = normalise(text)
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def is_yes(text: str) -> bool:
    """A plain yes."""
    return normalise(text) in YES_WORDS


def is_no(text: str) -> bool:
    """A plain no."""
    return normalise(text) in NO_WORDS


def is_skip(text: str) -> bool:
    """The resident does not know or wants to skip an optional detail."""
    return normalise(text) in SKIP_WORDS


def keyword_language(text: str) -> str | None:
    """The language a compliance keyword is in (None: English, or not a keyword)."""
    return None
