"""Words the bot recognises without NLU: SMS compliance keywords, dialogue controls, emergencies."""

from __future__ import annotations

import re

# Twilio's default opt-out / opt-in / help keywords (a message that is exactly one of them).
OPT_OUT = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
OPT_IN = {"start", "yes", "unstop", "optin"}
HELP = {"help", "info"}

CANCEL_PHRASES = re.compile(
    r"^(no|nope|nah|cancel( (it|that|this|the report|my report))?|start over|restart|"
    r"never ?mind|forget (it|that)|reset|scratch that|stop that)$"
)
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

# A safety net under the NLU: unmistakable emergencies are routed to 911 even if Rasa is down.
EMERGENCY_PATTERNS = [
    r"call 911",
    r"on fire\b(?! (lane|hydrant|station|department|dept|truck))",
    r"(house|building|car|kitchen|apartment) fire",
    r"(there'?s|there is) (a )?fire\b(?! (hydrant|lane|station|pit|alarm test))",
    r"fire in (my|the|a)",
    r"smoke (is )?(coming|pouring)",
    r"someone (is |got |was )?(hurt|shot|stabbed|bleeding)",
    r"(not|isn'?t|stopped) breathing",
    r"unconscious",
    r"heart attack",
    r"overdos(e|ed|es|ing)",
    r"breaking in(to)?",
    r"break[- ]in (in progress|right now)",
    r"robbing|robbery|being robbed",
    r"(has|with) a (gun|knife)",
    r"shooting(?! (hoops|baskets|pool|a video|video|photos))|shots fired",
    r"gas leak|smell (of )?gas",
    r"drowning",
    r"assault(ing|ed)?",
]
EMERGENCY_RE = re.compile(r"\b(" + "|".join(EMERGENCY_PATTERNS) + r")\b", re.IGNORECASE)


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


def is_cancel(text: str) -> bool:
    """Whether the message drops the report in progress ('no', 'cancel that', 'start over')."""
    return bool(CANCEL_PHRASES.match(normalise(text)))


def is_yes(text: str) -> bool:
    """A plain yes."""
    return normalise(text) in YES_WORDS


def is_no(text: str) -> bool:
    """A plain no."""
    return normalise(text) in NO_WORDS


def is_skip(text: str) -> bool:
    """The resident does not know or wants to skip an optional detail."""
    return normalise(text) in SKIP_WORDS


def looks_like_emergency(text: str) -> bool:
    """Unmistakable emergency wording (a fire, someone hurt, a crime in progress)."""
    return bool(EMERGENCY_RE.search(text))
