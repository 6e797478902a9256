"""Client for Rasa's HTTP API: parse(text, language) -> intent, confidence, entities; timed out.

One `RasaClient` talks to one language's replica set; `LanguageRouter` holds one per language
and sends each message to the servers of its language (English when it has none).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
import urllib3

import telemetry
from nlu.languages import DEFAULT
from telemetry import metrics

FALLBACK_INTENT = "nlu_fallback"
log = logging.getLogger("civicline.nlu")


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
    """Anything that understands a message in a language."""

    def parse(self, text: str, language: str = DEFAULT) -> Parse: ...


def clean_for_rasa(text: str) -> str:
    """Text Rasa will treat as words: a leading '/' would make it an intent payload."""
    return text.strip().lstrip("/").strip()


class HTTPStatusError(Exception):
    """A Rasa server answered with an HTTP error status."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class RasaClient:
    """Talks to one or more `rasa run --enable-api` servers over HTTP.

    With several servers (a comma-separated CIVICLINE_RASA_URL) each parse tries them in
    turn, giving each an equal share of the timeout. `skip` names the servers out of rotation
    (the reconciler is swapping their model, nlu/fleet.py): they are tried only after every
    other one failed, so no resident waits on a server busy loading a model.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        timeout: float = 3.0,
        skip: Callable[[], frozenset[str]] | None = None,
        language: str = DEFAULT,
    ):
        self.urls = [u.strip().rstrip("/") for u in url.split(",") if u.strip()]
        self.url = self.urls[0]
        self.token = token
        self.timeout = timeout
        self.skip = skip
        self.language = language  # the language its servers serve (a metrics label)
        self._http = requests.Session()  # status, warm-up and model loads
        self._http.trust_env = False  # loopback servers: no proxy or .netrc lookups
        # Parses go through urllib3 itself (requests' own layer under it): the same keep-alive
        # pools at about half the CPU per call, and a parse is on every resident's turn.
        self._pool = urllib3.PoolManager(num_pools=max(4, len(self.urls)), maxsize=8, retries=False)
        self._next = 0

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def _order(self) -> list[str]:
        start = self._next % len(self.urls)
        self._next += 1
        order = self.urls[start:] + self.urls[:start]
        if self.skip is None or len(order) == 1:
            return order
        out = self.skip()
        return [u for u in order if u not in out] + [u for u in order if u in out]

    def parse(self, text: str, language: str = DEFAULT) -> Parse:
        """Classify one message; raises NLUError when no server answers in time.

        `language` is accepted so one replica set is an NLU too; its servers serve one language.
        """
        share = self.timeout / len(self.urls)
        errors = []
        started = time.perf_counter()
        rid = telemetry.request_id()
        headers = {"Content-Type": "application/json"}
        if rid:
            headers["X-Request-ID"] = rid  # Rasa's log can be matched to ours
        payload = json.dumps({"text": clean_for_rasa(text)}).encode()
        query = f"?{urlencode(self._params())}" if self.token else ""
        timeout = urllib3.Timeout(connect=min(1.0, share), read=share)
        for url in self._order():
            try:
                resp = self._pool.request(
                    "POST",
                    f"{url}/model/parse{query}",
                    body=payload,
                    headers=headers,
                    timeout=timeout,
                )
                if resp.status >= 400:
                    raise HTTPStatusError(resp.status)
                body = json.loads(resp.data)
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
                break
            except (urllib3.exceptions.HTTPError, HTTPStatusError, ValueError) as exc:
                errors.append(f"{url}: {exc.__class__.__name__}")
                log.warning(
                    "rasa parse failed on %s (%s), request %s",
                    url,
                    exc.__class__.__name__,
                    rid or "-",
                )
        else:
            metrics.nlu_parse(self.language, "error", time.perf_counter() - started)
            raise NLUError(f"rasa parse failed: {'; '.join(errors)}"[:250])
        intent = body.get("intent") or {}
        understood = intent.get("name") not in (None, FALLBACK_INTENT)
        outcome = "understood" if understood else "fallback"
        metrics.nlu_parse(self.language, outcome, time.perf_counter() - started)
        return Parse(
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            entities=list(body.get("entities") or []),
            ranking=list(body.get("intent_ranking") or []),
        )

    def status(self, url: str | None = None) -> dict[str, Any]:
        """A server's /status document (which model is loaded); raises NLUError if unreachable."""
        try:
            resp = self._http.get(
                f"{url or self.url}/status", params=self._params(), timeout=self.timeout
            )
            resp.raise_for_status()
            return dict(resp.json())
        except (requests.RequestException, ValueError) as exc:
            raise NLUError(f"rasa status failed: {exc}"[:250]) from exc

    def warm(self, url: str, text: str = "hello") -> None:
        """Parse once on this server (its first parse after a load is slow); NLUError if not."""
        try:
            resp = self._http.post(
                f"{url}/model/parse", json={"text": text}, params=self._params(), timeout=30
            )
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise NLUError(f"{url} does not parse after loading: {exc}"[:300]) from exc

    def load_model(self, url: str, model_file: str, timeout: float = 180.0) -> None:
        """Swap the model one server serves (PUT /model); it answers again when this returns."""
        try:
            resp = self._http.put(
                f"{url}/model",
                params=self._params(),
                json={"model_file": model_file},
                timeout=timeout,
            )
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise NLUError(f"loading {model_file} into {url} failed: {exc}"[:300]) from exc


class LanguageRouter:
    """One `RasaClient` (replica set) per language; each parse goes to its language's servers.

    An unknown language, or one without servers configured, is parsed by the default (English)
    servers: an English reading beats no reading. A language whose servers are all down raises
    NLUError like a single client, so the engine saves the message for a later answer instead of
    answering a Spanish text from the English model.
    """

    def __init__(self, clients: Mapping[str, RasaClient], default: str = DEFAULT):
        if default not in clients:
            raise ValueError(f"the default language {default!r} needs Rasa servers")
        self.clients = dict(clients)
        self.default = default

    @classmethod
    def from_urls(
        cls,
        urls: Mapping[str, str],
        token: str | None = None,
        timeout: float = 3.0,
        skip: Callable[[], frozenset[str]] | None = None,
    ) -> LanguageRouter:
        """A router from {language: comma-separated URLs}; languages with no URL are left out."""
        return cls(
            {
                lang: RasaClient(u, token, timeout, skip, language=lang)
                for lang, u in urls.items()
                if u.strip()
            }
        )

    def client(self, language: str | None = None) -> RasaClient:
        """The replica set that parses this language (the default one if it has none)."""
        return self.clients.get((language or self.default).lower(), self.clients[self.default])

    def parse(self, text: str, language: str = DEFAULT) -> Parse:
        """Classify one message with its language's model."""
        return self.client(language).parse(text)

    def urls_for(self, language: str) -> list[str]:
        """The servers of exactly this language ([] if none: never another language's)."""
        client = self.clients.get(language)
        return list(client.urls) if client else []

    @property
    def urls(self) -> list[str]:
        """The default language's servers (what single-language callers and tests expect)."""
        return self.client().urls

    @property
    def token(self) -> str | None:
        """The auth token every server shares."""
        return self.client().token

    def status(self, url: str | None = None) -> dict[str, Any]:
        """A server's /status document (any language's; the token is shared)."""
        return self.client().status(url)

    def load_model(self, url: str, model_file: str, timeout: float = 180.0) -> None:
        """Swap the model one server serves (any language's)."""
        self.client().load_model(url, model_file, timeout)


def servers_for(nlu: object, language: str) -> list[str]:
    """The servers that serve exactly this language (what an activation loads a model into)."""
    if isinstance(nlu, LanguageRouter):
        return nlu.urls_for(language)
    return list(getattr(nlu, "urls", [])) if language == DEFAULT else []
