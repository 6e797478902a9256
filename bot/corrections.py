"""How residents leave the script: cancelling in their own words, and correcting what they said."""

from __future__ import annotations

import re

from bot import wordlists
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
# Spanish: "45 no 54", "no es el 54 es el 45", "el numero es 45", "quise decir el 45".
SPANISH_NUMBER_CORRECTIONS = [
    re.compile(rf"\b{_NUM} no( es| era)?( el)? {_NUM}\b"),
    re.compile(rf"\bno( es| era)?( el)? {_NUM} (sino|es|era)?( el)? ?{_NUM}\b"),
    re.compile(
        rf"\b(numero|numero de la casa|direccion) (es|era|debe ser|deberia ser)( el)? {_NUM}\b"
    ),
    re.compile(
        rf"\b(quise decir|queria decir|es|es en|era|en realidad es|en realidad|perdon|digo|"
        rf"mas bien|corrijo|sino)( el| en el)? {_NUM}\b"
    ),
]
# "no en Court", "ni la calefaccion": a denial and what it denies, not "no hay agua".
SPANISH_NEGATED = re.compile(
    r"(\bno|\bya no|^ni)( solo| solamente| nada mas)?"  # "no hay X ni Y" denies neither
    r"(?! (hay|tengo|tenemos|tiene|tienen|funciona|funcionan|sirve|sirven|sale|prende|enciende|"
    r"se|lo|le|me|te|nos|les|puedo|podemos|puede|hace|han|ha|he|esta|estan|sabe)\b)"
    r"((?: (?:es|era|en|a|al|el|la|los|las|mi|un|una|del|de|por))*) \w+( \w+)?"
)


def words(text: str) -> str:
    """Normalised text with apostrophes dropped ("it's" -> "its")."""
    return normalise(text).replace("'", "").replace("\u2019", "")


def is_cancel(text: str, *, language: str = "en") -> bool:
    """Whether the message drops the report in progress, in the resident's own words."""
    if language != "en":
        said = wordlists.plain(text)
        whole = wordlists.pattern(language, "cancel_whole", "whole")
        anywhere = wordlists.pattern(language, "cancel_patterns")
        return bool(whole.match(said) or anywhere.search(said))
    said = words(text)
    return bool(CANCEL_WHOLE.match(said) or CANCEL_PHRASES.search(said))


def starts_yes(text: str, *, language: str = "en") -> bool:
    """Whether the message opens with a yes ("yeah let's do it"): never read as cancelling."""
    if language != "en":
        return bool(wordlists.pattern(language, "yes_start", "start").match(wordlists.plain(text)))
    return bool(YES_START.match(words(text)))


def is_correction(text: str, *, language: str = "en") -> bool:
    """Whether the message says it changes something ("sorry, I meant...", "not 24")."""
    if language != "en":
        return bool(wordlists.pattern(language, "correction_patterns").search(_said(text)))
    return bool(MARKERS.search(words(text)))


def corrected_number(text: str, *, language: str = "en") -> str | None:
    """The house number a correction gives: "42 not 24", "the number is 42", "I meant 42"."""
    said, patterns = words(text), NUMBER_CORRECTIONS
    if language == "es":
        said, patterns = wordlists.plain(text), SPANISH_NUMBER_CORRECTIONS
    for pattern in patterns:
        if match := pattern.search(said):
            groups = [g for g in match.groups() if g and re.fullmatch(_NUM, g)]
            if pattern is patterns[0]:
                return groups[0]
            return groups[-1]
    return None


def without_negated(text: str, *, language: str = "en") -> str:
    """The text with what it denies taken out ("both, not only the heat" -> "both,")."""
    if language == "es":
        return SPANISH_NEGATED.sub(" ", _said(text))
    return NEGATED.sub(" ", words(text))


def is_question(text: str, *, language: str = "en") -> bool:
    """Whether the message reads as a question rather than an answer."""
    if language != "en":
        opening = wordlists.pattern(language, "question_start", "start")
        asked = "¿" in text or opening.match(wordlists.plain(text))
        return bool(asked or text.strip().endswith("?"))
    return bool(QUESTION.search(words(text)) or text.strip().endswith("?"))


def _said(text: str) -> str:
    """Folded text that keeps its commas ("en Monroe, no en Court")."""
    return re.sub(r"\s+", " ", wordlists.fold(text).replace("'", "")).strip(' .!?;:"')
