"""The knowledge base (data/knowledge_base.yml): answers for information intents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Answer:
    """An answer to one information intent."""

    intent: str
    title: str
    answer: str
    link: str | None
    phone: str | None
    spoken: str

    def sms(self) -> str:
        """The answer as one text message, with its link and phone number."""
        parts = [self.answer]
        if self.link and self.link not in self.answer:
            parts.append(f"More: {self.link}")
        if self.phone and self.phone not in self.answer:
            parts.append(f"Call {self.phone}.")
        return " ".join(parts)


class KnowledgeBase:
    """Answers by intent."""

    def __init__(self, answers: list[Answer]):
        self.by_intent = {a.intent: a for a in answers}

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        """Read data/knowledge_base.yml."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            [
                Answer(
                    intent=a["intent"],
                    title=a["title"],
                    answer=a["answer"].strip(),
                    link=a.get("link"),
                    phone=a.get("phone"),
                    spoken=(a.get("spoken") or a["answer"]).strip(),
                )
                for a in raw["answers"]
            ]
        )
