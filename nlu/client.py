"""Client for Rasa's HTTP API: parse(text) -> intent, confidence, entities, with a short timeout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class Parse:
    """What the NLU understood in one message."""

    intent: str | None
    confidence: float
    entities: list[dict[str, Any]] = field(default_factory=list)
    ranking: list[dict[str, Any]] = field(default_factory=list)

    def entity(self, name: str) -> str | None:
        """The first value of an entity, or None."""
        return next((str(e["value"]) for e in self.entities if e.get("entity") == name), None)


class NLUError(RuntimeError):
    """The NLU server is down, slow or answered nonsense."""


class NLU(Protocol):
    """Anything that understands a message."""

    def parse(self, text: str) -> Parse: ...


def clean_for_rasa(text: str) -> str:
    """Text Rasa will treat as words: a leading '/' would make it an intent payload."""
    return text.strip().lstrip("/").strip()


class RasaClient:
    """Talks to `rasa run --enable-api` over HTTP."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 3.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def parse(self, text: str) -> Parse:
        """Classify one message; raises NLUError when Rasa cannot answer in time."""
        try:
            resp = self._http.post(
                f"{self.url}/model/parse",
                json={"text": clean_for_rasa(text)},
                params=self._params(),
                timeout=self.timeout,
            )
            resp.raise_for_status()
            body = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise NLUError(f"rasa parse failed: {exc.__class__.__name__}: {exc}"[:250]) from exc
        intent = body.get("intent") or {}
        return Parse(
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            entities=list(body.get("entities") or []),
            ranking=list(body.get("intent_ranking") or []),
        )

    def status(self) -> dict[str, Any]:
        """Rasa's /status document (which model is loaded); raises NLUError if unreachable."""
        try:
            resp = self._http.get(f"{self.url}/status", params=self._params(), timeout=self.timeout)
            resp.raise_for_status()
            return dict(resp.json())
        except (requests.RequestException, ValueError) as exc:
            raise NLUError(f"rasa status failed: {exc}"[:250]) from exc
