"""Test doubles for one layer at a time (the integration tests use the real Rasa server)."""

from __future__ import annotations

import re

from nlu.client import NLUError, Parse


class FakeNLU:
    """Classifies by the first keyword rule whose pattern occurs in the text."""

    RULES: list[tuple[str, str, float]] = [
        (r"fire|breaking in|hurt", "emergency", 0.97),
        (r"pothole|hole in", "pothole", 0.93),
        (r"noise|loud|music", "noise_complaint", 0.91),
        (r"no heat|hot water", "no_heat_hot_water", 0.92),
        (r"abandoned|junk car", "abandoned_vehicle", 0.9),
        (r"trash pickup|garbage day|trash day", "ask_trash_schedule", 0.95),
        (r"status|311-\d+", "check_status", 0.9),
        (r"person|human|agent", "request_human", 0.95),
        (r"^(hi|hello)\b", "greet", 0.95),
        (r"^(yes|yeah|sure)\b", "affirm", 0.9),
        (r"^(no|nope)\b", "deny", 0.9),
        (r"thank", "thank_you", 0.95),
        (r"what can you do|help me", "help", 0.9),
        (r"^blorp", "nlu_fallback", 0.3),
    ]

    def __init__(self, down: bool = False):
        self.down = down
        self.calls: list[str] = []
        self.languages: list[str] = []  # the language each call asked for

    def parse(self, text: str, language: str = "en") -> Parse:
        """Keyword classification; out_of_scope when nothing matches."""
        self.calls.append(text)
        self.languages.append(language)
        if self.down:
            raise NLUError("fake NLU is down")
        lowered = text.lower()
        for pattern, intent, confidence in self.RULES:
            if re.search(pattern, lowered):
                entities = [
                    {"entity": "case_id", "value": m.group(0)}
                    for m in re.finditer(r"311-\d{6,}", text)
                ]
                return Parse(intent, confidence, entities, _ranking(intent, confidence))
        return Parse("out_of_scope", 0.8, [], _ranking("out_of_scope", 0.8))


def _ranking(intent: str, confidence: float) -> list[dict[str, object]]:
    """A Rasa-like ranking: a fallback is ranked first, then the classifier's own guesses."""
    ranked: list[dict[str, object]] = [{"name": intent, "confidence": confidence}]
    if intent == "nlu_fallback":
        ranked.append({"name": "graffiti", "confidence": 0.3})
    ranked.append({"name": "greet", "confidence": round((1 - confidence) / 2, 4)})
    return ranked
