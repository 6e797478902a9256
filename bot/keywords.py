"""Words the bot recognises without NLU: SMS compliance keywords and plain answers."""

from __future__ import annotations

import re

from bot import wordlists

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
FOLLOW = {"follow", "follow it", "follow case", "follow this", "follow that case", "updates"}
# city notices: list them, subscribe ("ALERTS TRASH 120 Elm St"), stop ("ALERTS OFF")
ALERTS = {"alerts", "alert", "any news", "news", "notices", "city notices"}
ALERTS_OFF = {"off", "stop", "no", "none", "end", "cancel"}
# after "this problem is already known": file the report all the same
FILE_ANYWAY = {
    "file",
    "file it",
    "file it anyway",
    "file anyway",
    "report it anyway",
    "file my report",
}


def normalise(text: str) -> str:
    """Lower-case, trim, drop surrounding punctuation and collapse spaces."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip(" .!?,;:'\"")


KEYWORD_KINDS = ("opt_out", "opt_in", "help")
ENGLISH_KEYWORDS = {"opt_out": OPT_OUT, "opt_in": OPT_IN, "help": HELP}


def compliance_keyword(text: str) -> str | None:
    """'opt_out', 'opt_in' or 'help' when the whole message is a carrier keyword, else None."""
    found = _keyword(text)
    return found[0] if found else None


def keyword_language(text: str) -> str | None:
    """The language of the carrier keyword the message is ("es" for PARAR), so we answer in it."""
    found = _keyword(text)
    return found[1] if found else None


def _keyword(text: str) -> tuple[str, str] | None:
    word = normalise(text)
    for kind in KEYWORD_KINDS:  # English first, as before
        if word in ENGLISH_KEYWORDS[kind]:
            return kind, "en"
    folded = wordlists.plain(text)
    for language in wordlists.LANGUAGES[1:]:
        for kind in KEYWORD_KINDS:
            if folded in wordlists.words(language, kind):
                return kind, language
    return None


def is_yes(text: str, *, language: str = "en") -> bool:
    """A plain yes."""
    return _answer(text, language, YES_WORDS, "yes")


def is_no(text: str, *, language: str = "en") -> bool:
    """A plain no."""
    return _answer(text, language, NO_WORDS, "no")


def is_skip(text: str, *, language: str = "en") -> bool:
    """The resident does not know or wants to skip an optional detail."""
    return _answer(text, language, SKIP_WORDS, "skip")


def is_back_to_bot(text: str, *, language: str = "en") -> bool:
    """The resident waiting for staff asks for the bot's menu again ("menu", "volver")."""
    return _answer(text, language, BACK_TO_BOT, "back_to_bot")


def is_follow(text: str, *, language: str = "en") -> bool:
    """The resident asks for a case's updates ("follow", "FOLLOW 311-000123", "seguir")."""
    return _answer(CASE_NUMBER.sub(" ", text), language, FOLLOW, "follow")


def is_file_anyway(text: str, *, language: str = "en") -> bool:
    """The resident insists on filing a report of a known problem ("FILE", "presentar")."""
    return _answer(text, language, FILE_ANYWAY, "file_anyway")


def alerts_command(text: str) -> tuple[str, str, str] | None:
    """(what, rest, language of the word): ("list", "", "en") for ALERTS alone, ("off", ...)
    for ALERTS OFF, ("subscribe", "trash 120 elm st", ...) for ALERTS and a topic or address;
    else None. Every language's words count whatever the conversation's language (one word
    says too little to tell it)."""
    said = normalise(text)
    first, _, rest = said.partition(" ")
    rest = rest.strip()
    if said in ALERTS:
        return "list", "", "en"
    if first in ALERTS:
        return ("off", "", "en") if rest in ALERTS_OFF else ("subscribe", rest, "en")
    plain = wordlists.plain(text)
    for language in wordlists.LANGUAGES[1:]:
        if plain in wordlists.words(language, "alerts"):
            return "list", "", language
        if plain in wordlists.words(language, "alerts_off"):
            return "off", "", language
        if wordlists.plain(first) in wordlists.words(language, "alerts"):
            if wordlists.plain(rest) in wordlists.words(language, "alerts_off_word"):
                return "off", "", language
            return "subscribe", rest, language
    return None


CASE_NUMBER = re.compile(r"\b311\s*[-–.]?\s*\d{6,10}\b")


def _answer(text: str, language: str, english: set[str], key: str) -> bool:
    """English words always count (residents mix them in), then the language's own list."""
    said = normalise(text)
    if language == "en":
        return said in english
    if said in english and said not in wordlists.words(language, "english_not_here"):
        return True
    return wordlists.plain(text) in wordlists.words(language, key)
