"""How residents leave the script: cancelling in their own words, and correcting what they said."""

from __future__ import annotations

import re

from bot.keywords import normalise

# Whole messages that drop a report (the carrier keyword CANCEL is an opt-out, see keywords.py).
CANCEL_WHOLE = re.compile(
    r"^(no|nope|nah|cancel|start over|restart|reset|nvm|never ?mind|abort|quit it|stop that|"
    r"forget it|scratch that|no thanks|no thank you)$"
)
# Phrases that drop a report wherever they stand in a message.
CANCEL_PHRASES = re.compile(
    r"\b("
    r"never ?mind|nevermind|nvm|forget (it|about it|that|this|all that|the whole thing|the report)|"
    r"forget i (said|asked|texted|wrote) (anything|that|it)|scratch that|"
    r"cancel (it|that|this|the report|my report|the request|everything|the whole thing)|"
    r"(dont|do not|no need to) (file|send|submit|report) (it|that|this|the report|anything)|"
    r"(dont|do not) bother|no need anymore|not needed any ?more|"
    r"(already|just) (been )?(fixed|taken care of|cleaned up|picked up|resolved|handled|towed)|"
    r"(someone|somebody|they|the city|a crew|the crew|my landlord|the landlord|landlord|the owner)"
    r" (already |just |finally )?(fixed|took care|came|cleaned|picked|towed|moved|repaired|"
    r"turned|fixed it|sorted)|"
    r"(its|it is|its been|it has been|thats|that is) (all )?(fixed|gone|resolved|back on|"
    r"working( again)?|fine now|ok now|okay now|taken care of|sorted)|"
    r"(came|is|went|turned) back on|changed my mind|"
    r"(ill|i will|i ll) (call|do it|report it|deal with it|handle it) (later|myself|another time)|"
    r"stop (the|this|my) report|ignore (that|this|me|my last|it|all that)|"
    r"start (over|again|from scratch)|"
    r"not (a problem|an issue) any ?more|no longer (a problem|an issue|needed|there|happening)"
    r")\b"
)
# Words that say the message changes something said before.
MARKERS = re.compile(
    r"\b(sorry|i meant|meant|actually|correction|not|wrong|mistake|typo|oops|my bad|wait|"
    r"instead|change|make it|make that|should be|should say|rather|no its|its actually)\b"
)
_NUM = r"(\d{1,6}[a-z]?)"
NUMBER_CORRECTIONS = [
    re.compile(rf"\b{_NUM} not {_NUM}\b"),
    re.compile(rf"\bnot {_NUM},? (but |its |it is |rather |i meant |make it )?{_NUM}\b"),
    re.compile(
        rf"\b(number|house number|address|building) (is|should be|was meant to be|s) {_NUM}\b"
    ),
    re.compile(rf"\b(i meant|meant|make it|make that|its|its actually|actually|sorry) {_NUM}\b"),
]
NEGATED = re.compile(
    r"\b(not|no longer|isnt|wasnt|not just|not only)( only| just)?( the| a| my)? \w+( \w+)?"
)
YES_START = re.compile(
    r"^(y|yes|yeah|yea|yep|yup|ya|sure|ok|okay|go ahead|do it|lets do it|please do|correct)\b"
)
QUESTION = re.compile(
    r"\?\s*$|^(how|what|when|where|why|who|which|can i|do i|is there|are there)\b"
)


def words(text: str) -> str:
    """Normalised text with apostrophes dropped ("it's" -> "its")."""
    return normalise(text).replace("'", "").replace("\u2019", "")


def is_cancel(text: str) -> bool:
    """Whether the message drops the report in progress, in the resident's own words."""
    said = words(text)
    return bool(CANCEL_WHOLE.match(said) or CANCEL_PHRASES.search(said))


def starts_yes(text: str) -> bool:
    """Whether the message opens with a yes ("yeah let's do it"): never read as cancelling."""
    return bool(YES_START.match(words(text)))


def is_correction(text: str) -> bool:
    """Whether the message says it changes something ("sorry, I meant...", "not 24")."""
    return bool(MARKERS.search(words(text)))


def corrected_number(text: str) -> str | None:
    """The house number a correction gives: "42 not 24", "the number is 42", "I meant 42"."""
    said = words(text)
    for pattern in NUMBER_CORRECTIONS:
        if match := pattern.search(said):
            groups = [g for g in match.groups() if g and re.fullmatch(_NUM, g)]
            if pattern is NUMBER_CORRECTIONS[0]:
                return groups[0]
            return groups[-1]
    return None


def without_negated(text: str) -> str:
    """The text with what it denies taken out ("both, not only the heat" -> "both,")."""
    return NEGATED.sub(" ", words(text))


def is_question(text: str) -> bool:
    """Whether the message reads as a question rather than an answer."""
    return bool(QUESTION.search(words(text)) or text.strip().endswith("?"))
