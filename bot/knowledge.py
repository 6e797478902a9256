"""The knowledge base (data/knowledge_base.yml): answers for information intents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datafiles import load_yaml


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


class KnowledgeBaseError(ValueError):
    """The knowledge base file is malformed or a translation is missing."""


class KnowledgeBase:
    """Answers by intent."""

    def __init__(self, answers: list[Answer], translations: dict[str, KnowledgeBase] | None = None):
        self.by_intent = {a.intent: a for a in answers}
        self.translations = translations or {}

    def localized(self, language: str) -> KnowledgeBase:
        """The answers in a language (English for one without translations)."""
        return self.translations.get(language, self)

    @classmethod
    def load(cls, path: Path, languages: tuple[str, ...] = ()) -> KnowledgeBase:
        """Read data/knowledge_base.yml: every answer in every language (a `<language>:` block)."""
        raw = load_yaml(path)
        answers = raw["answers"]
        translations = {
            language: cls([_answer(a, a.get(language), language) for a in answers])
            for language in languages
            if language != "en"
        }
        return cls([_answer(a, a, "en") for a in answers], translations)


def _answer(base: dict[str, Any], raw: dict[str, Any] | None, language: str) -> Answer:
    """One answer in one language; a missing translation stops the app from loading."""
    if not raw or not raw.get("answer") or not raw.get("title"):
        raise KnowledgeBaseError(f"answer {base.get('intent')} ({language}): no title or answer")
    return Answer(
        intent=base["intent"],
        title=str(raw["title"]),
        answer=str(raw["answer"]).strip(),
        link=base.get("link"),
        phone=base.get("phone"),
        spoken=str(raw.get("spoken") or raw["answer"]).strip(),
    )
