"""Which language a conversation is in: asked for by name, or identified by py3langid.

py3langid ships its model (no download) and ranks languages by probability; it is restricted to
the locales the bot has catalogues for. Short or mixed messages ("ok", "120 Elm") are left to
the conversation's language rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot import wordlists

FIRST_TURN_CONFIDENCE = 0.9  # a new conversation takes a language identified at least this surely
SWITCH_CONFIDENCE = 0.99  # a later message switches the conversation only when this sure
SWITCH_MIN_WORDS = 4  # ... and at least this long (answers like "si" or "Elm y Main" never do)
UNSURE_MIN_WORDS = 3  # an unsure guess on this many words still beats the number's last language
ASK_MAX_WORDS = 6  # "en español por favor", "can we do this in english": asking, not reporting
NEGATION = re.compile(r"\b(no|not|dont|don t|do not|cant|can t|cannot)\b")


def fold(text: str) -> str:
    """Lower case, accents off, punctuation to spaces: how language names are compared."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", wordlists.fold(text)).split())


@cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


@dataclass(frozen=True)
class Guess:
    """A language identified in a message, and how sure the identifier is."""

    language: str
    confidence: float
    words: int


class LanguageDetector:
    """Names and identification for the locales the bot speaks."""

    def __init__(self, asked_by: dict[str, tuple[str, ...]]):
        self.languages = tuple(asked_by)
        self.asked_by = {lang: tuple(fold(n) for n in names) for lang, names in asked_by.items()}
        if len(self.languages) > 1:
            _identifier(self.languages)  # load the model now (~0.7 s), not on a resident's turn

    def identify(self, text: str) -> Guess | None:
        """py3langid's best language among ours, or None for a message with too few letters."""
        letters = sum(c.isalpha() for c in text)
        if letters < 2 or len(self.languages) < 2:
            return None
        language, confidence = _identifier(self.languages).classify(text)
        return Guess(str(language), float(confidence), len(fold(text).split()))

    def asked_for(self, text: str) -> str | None:
        """The language a short message asks for by name ("español", "english please")."""
        said = fold(text)
        if not said or len(said.split()) > ASK_MAX_WORDS or NEGATION.search(said):
            return None
        padded = f" {said} "
        for language, names in self.asked_by.items():
            if any(f" {name} " in padded for name in names):
                return language
        return None

    def first_turn(self, text: str, fallback: str) -> str:
        """A new conversation's language: identified if sure, else the number's last one."""
        return self.first_turn_choices(text, fallback)[0]

    def first_turn_choices(self, text: str, fallback: str) -> tuple[str, ...]:
        """A new conversation's language, or, when unsure, every language (likeliest first).

        The engine lets each language's NLU read an unsure first message and keeps the one
        that understands it best ("bache en Maple Ave" is Spanish to the Spanish model).
        """
        guess = self.identify(text)
        if guess and guess.confidence >= FIRST_TURN_CONFIDENCE:
            return (guess.language,)
        first = guess.language if guess and guess.words >= UNSURE_MIN_WORDS else fallback
        return (first, *(lang for lang in self.languages if lang != first))

    def later_turn(self, text: str, current: str) -> str:
        """A conversation changes language on a long message surely written in another one."""
        guess = self.identify(text)
        if (
            guess
            and guess.language != current
            and guess.words >= SWITCH_MIN_WORDS
            and guess.confidence >= SWITCH_CONFIDENCE
        ):
            return guess.language
        return current
