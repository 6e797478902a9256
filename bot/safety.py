"""Is someone in danger? Checked on every turn before anything else, built for recall."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from bot import wordlists
from bot.prefilter import Prefiltered
from datafiles import load_yaml
from nlu.client import Parse

# The NLU's emergency intent counts at a lower confidence than any other intent: top-ranked at
# CLEAR_CONFIDENCE it is an emergency; anywhere in the ranking at POSSIBLE_CONFIDENCE the bot
# asks. Tuned on tests/emergency/dev.yml (see docs/emergencies.md), never on the held-out set.
CLEAR_CONFIDENCE = 0.6
POSSIBLE_CONFIDENCE = 0.4
EMERGENCY_INTENT = "emergency"
ROUTINE_CONFIDENCE = 0.8  # an urgent word beside a routine request this sure is emphasis
# A fragment ("near Court St", "three one one zero...") says too little for the NLU's doubt to
# count: the NLU alone may only ask when a message has this many words of substance.
MIN_CONTENT_WORDS = 3
NOT_CONTENT = set(
    [
        "zero",
        "oh",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "thousand",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "at",
        "on",
        "in",
        "by",
        "near",
        "to",
        "from",
        "off",
        "corner",
        "cross",
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "yes",
        "no",
        "yeah",
        "yep",
        "nope",
        "ok",
        "okay",
        "um",
        "uh",
        "it",
        "its",
        "is",
        "my",
        "i",
    ]
)


class Danger(IntEnum):
    """How sure the bot is that a message describes a danger happening now."""

    NONE = 0
    POSSIBLE = 1  # ask "is anyone in danger right now?"
    CLEAR = 2  # "call 911 now"


@dataclass(frozen=True)
class Assessment:
    """The verdict on one message, and what led to it (stored for review and tests)."""

    level: Danger
    reason: str = ""


def normalise(text: str) -> str:
    """Lower-case words: apostrophes dropped ("isn't" -> "isnt"), punctuation as spaces.

    Accents are folded ("está" -> "esta", "ñ" -> "n") because residents text without them.
    """
    text = wordlists.fold(text).replace("\u2019", "'").replace("'", "")
    text = re.sub(r"[^\w\s/-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_ONE_PATTERN = ("past", "still_now", "asking", "explained", "emphasis", "humor")


def _either(patterns: Iterable[str | None]) -> str:
    """One regular expression matching any language's version of a single-pattern key."""
    return "|".join(f"(?:{p})" for p in patterns if p)


def _expand(section: dict) -> dict:
    """Replace {name} with the section's `words:` alternatives, so typos are listed once."""
    words = {k: f"(?:{v})" for k, v in (section.get("words") or {}).items()}
    if not words:
        return section
    braces = re.compile(r"\{(" + "|".join(map(re.escape, words)) + r")\}")

    def expand(value: object) -> object:
        if isinstance(value, str):
            return braces.sub(lambda m: words[m.group(1)], value)
        if isinstance(value, list):
            return [expand(v) for v in value]
        if isinstance(value, dict):
            return {k: expand(v) for k, v in value.items()}
        return value

    return {k: expand(v) for k, v in section.items() if k != "words"}


def _compile(patterns: list[str]) -> Prefiltered:
    """One pattern for a list of phrases, skipped on texts holding none of its words."""
    joined = r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")"
    return Prefiltered(re.compile(joined, re.IGNORECASE))


class DangerDetector:
    """A lexicon of danger (data/danger.yml) plus the NLU's emergency intent."""

    def __init__(
        self,
        *,
        safe: list[str],
        danger: dict[str, list[str]],
        possible: list[str],
        past: str,
        still_now: str,
        asking: str,
        explained: str,
        emphasis: str,
        humor: str,
    ):
        self.safe = _compile(safe)
        self.danger = {name: _compile(patterns) for name, patterns in danger.items()}
        self.possible = _compile(possible)
        self.past = re.compile(past)
        self.still_now = re.compile(still_now)
        self.asking = re.compile(asking)
        self.explained = re.compile(explained)
        self.emphasis = re.compile(emphasis)
        self.humor = re.compile(humor)

    @classmethod
    def load(cls, path: Path, languages: Iterable[str] | None = None) -> DangerDetector:
        """Read and compile the lexicon; a bad pattern fails when the app loads.

        The top level is English; each entry under `languages:` has the same keys and is merged
        in, so every language runs on every message (the language is not known before the words,
        and residents mix them). languages: which of those to merge (default: all of them).
        """
        data = load_yaml(path)
        extra = data.get("languages") or {}
        chosen = [_expand(extra[name]) for name in (extra if languages is None else languages)]
        sections = [data, *chosen]
        danger: dict[str, list[str]] = {}
        for section in sections:
            for name, patterns in section.get("danger", {}).items():
                danger.setdefault(name, []).extend(patterns)
        return cls(
            safe=[p for s in sections for p in s.get("safe_phrases", [])],
            danger=danger,
            possible=[p for s in sections for p in s.get("possible", [])],
            **{key: _either(s.get(key) for s in sections) for key in _ONE_PATTERN},
        )

    def lexicon(self, text: str) -> Assessment:
        """What the words alone say, with routine look-alikes blanked out first.

        A danger told in the past ("last week", "every night") is not one now; reason then
        says why, so that the NLU is not taken over the words ("past" or "look-alike").
        """
        words = normalise(text)
        if not words:
            return Assessment(Danger.NONE)
        masked = self.safe.sub(" _ ", words)
        if self.past.search(masked) and not self.still_now.search(masked):
            return Assessment(Danger.NONE, "past")
        # an explanation may name a look-alike ("it was just fireworks"): read it unblanked too
        if self.explained.search(masked) or self.explained.search(words):
            return Assessment(Danger.NONE, "look-alike")
        for name, pattern in self.danger.items():
            if pattern.search(masked):
                return Assessment(Danger.CLEAR, name)
        casual = self.asking.search(masked) or self.humor.search(masked)
        if self.possible.search(masked) and not casual:
            return Assessment(Danger.POSSIBLE, "possible")
        if self.emphasis.search(masked) and not casual:
            return Assessment(Danger.POSSIBLE, "emphasis")
        return Assessment(Danger.NONE, "look-alike" if masked != words else "")

    def assess(self, text: str, parse: Parse | None, found: Assessment | None = None) -> Assessment:
        """The lexicon and the NLU together: the more alarmed of the two wins.

        The NLU is not heard over words that place the danger in the past or explain it away
        (a look-alike phrase and nothing else alarming), nor on questions about services.
        found: the lexicon's verdict on this text, when the caller already has it.
        """
        if found is None:
            found = self.lexicon(text)
        if found.level == Danger.CLEAR or parse is None or found.reason in ("past", "look-alike"):
            return found
        words = normalise(text)
        if self.asking.search(words):
            return found  # a question or a request for service: the words decide, not the NLU
        confidence = emergency_confidence(parse)
        routine = parse.intent != EMERGENCY_INTENT and parse.confidence >= ROUTINE_CONFIDENCE
        if found.reason == "emphasis" and routine:
            return Assessment(Danger.NONE, "emphasis")  # "EMERGENCY!!! my recycling wasn't..."
        if _top(parse) == EMERGENCY_INTENT and confidence >= CLEAR_CONFIDENCE:
            return Assessment(Danger.CLEAR, "nlu")
        substance = [w for w in words.split() if w.isalpha() and w not in NOT_CONTENT]
        if (
            found.level == Danger.NONE
            and confidence >= POSSIBLE_CONFIDENCE
            and len(substance) >= MIN_CONTENT_WORDS
        ):
            return Assessment(Danger.POSSIBLE, "nlu")
        return found


def emergency_confidence(parse: Parse) -> float:
    """The emergency intent's confidence anywhere in the ranking (or as the intent)."""
    if parse.intent == EMERGENCY_INTENT:
        return parse.confidence
    return max(
        (float(r.get("confidence") or 0) for r in parse.ranking if r.get("name") == "emergency"),
        default=0.0,
    )


def _top(parse: Parse) -> str | None:
    """The classifier's own best intent (Rasa ranks nlu_fallback first when it falls back)."""
    ranked = [r for r in parse.ranking if r.get("name") != "nlu_fallback"]
    return str(ranked[0]["name"]) if ranked else parse.intent
