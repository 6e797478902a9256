"""Is someone in danger? Checked on every turn before anything else, built for recall."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import yaml

from nlu.client import Parse

# The NLU's emergency intent counts at a lower confidence than any other intent: top-ranked at
# CLEAR_CONFIDENCE it is an emergency; anywhere in the ranking at POSSIBLE_CONFIDENCE the bot
# asks. Tuned on tests/emergency/dev.yml (see docs/emergencies.md), never on the held-out set.
CLEAR_CONFIDENCE = 0.5
POSSIBLE_CONFIDENCE = 0.2
EMERGENCY_INTENT = "emergency"


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
    """Lower-case words: apostrophes dropped ("isn't" -> "isnt"), punctuation as spaces."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = re.sub(r"[^\w\s/-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")", re.IGNORECASE)


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
    ):
        self.safe = _compile(safe)
        self.danger = {name: _compile(patterns) for name, patterns in danger.items()}
        self.possible = _compile(possible)
        self.past = re.compile(past)
        self.still_now = re.compile(still_now)

    @classmethod
    def load(cls, path: Path) -> DangerDetector:
        """Read and compile the lexicon; a bad pattern fails when the app loads."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            safe=list(data["safe_phrases"]),
            danger={k: list(v) for k, v in data["danger"].items()},
            possible=list(data["possible"]),
            past=str(data["past"]),
            still_now=str(data["still_now"]),
        )

    def lexicon(self, text: str) -> Assessment:
        """What the words alone say, with routine look-alikes blanked out first."""
        words = normalise(text)
        if not words:
            return Assessment(Danger.NONE)
        masked = self.safe.sub(" _ ", words)
        in_past = bool(self.past.search(masked)) and not self.still_now.search(masked)
        for name, pattern in self.danger.items():
            if pattern.search(masked):
                return Assessment(Danger.POSSIBLE if in_past else Danger.CLEAR, name)
        if not in_past and self.possible.search(masked):
            return Assessment(Danger.POSSIBLE, "possible")
        return Assessment(Danger.NONE)

    def assess(self, text: str, parse: Parse | None) -> Assessment:
        """The lexicon and the NLU together: the more alarmed of the two wins."""
        found = self.lexicon(text)
        if found.level == Danger.CLEAR or parse is None:
            return found
        confidence = emergency_confidence(parse)
        if parse.intent == EMERGENCY_INTENT or (
            _top(parse) == EMERGENCY_INTENT and confidence >= CLEAR_CONFIDENCE
        ):
            return Assessment(Danger.CLEAR, "nlu")
        if found.level == Danger.NONE and confidence >= POSSIBLE_CONFIDENCE:
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
