"""Routing parses by language: each to its own servers, English for languages without any."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from nlu.client import LanguageRouter, NLUError, RasaClient
from nlu.languages import LANGUAGES, lookup
from settings import Settings
from tests.twilio_standin import JsonHandler


class FakeRasa:
    """A loopback server that answers every parse with one intent and records the texts."""

    def __init__(self, intent: str):
        seen: list[str] = []
        self.seen = seen

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append(body["text"])
                self._json(200, {"intent": {"name": intent, "confidence": 0.9}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[dict[str, FakeRasa]]:
    made = {"en": FakeRasa("english_intent"), "es": FakeRasa("intencion_espanola")}
    yield made
    for server in made.values():
        server.close()


def test_each_language_goes_to_its_own_servers(servers):
    router = LanguageRouter.from_urls({lang: s.url for lang, s in servers.items()})
    assert router.parse("hay un bache", language="es").intent == "intencion_espanola"
    assert router.parse("there is a pothole").intent == "english_intent"
    assert router.parse("there is a pothole", language="en").intent == "english_intent"
    assert servers["es"].seen == ["hay un bache"]
    assert servers["en"].seen == ["there is a pothole"] * 2


def test_unknown_language_and_language_without_servers_fall_back_to_english(servers):
    router = LanguageRouter.from_urls({"en": servers["en"].url, "es": ""})
    assert router.parse("hola", language="es").intent == "english_intent"
    assert router.parse("bonjour", language="fr").intent == "english_intent"
    assert router.urls_for("es") == [] and router.urls_for("en") == [servers["en"].url]
    assert router.urls == [servers["en"].url]


def test_spanish_servers_down_is_an_error_not_an_english_reading(servers):
    router = LanguageRouter.from_urls({"en": servers["en"].url, "es": "http://127.0.0.1:9"})
    router.clients["es"].timeout = 0.5
    with pytest.raises(NLUError):
        router.parse("hay un bache", language="es")
    assert servers["en"].seen == []


def test_a_router_needs_english_servers():
    with pytest.raises(ValueError):
        LanguageRouter({"es": RasaClient("http://127.0.0.1:9")})


def test_settings_read_one_url_list_per_language():
    settings = Settings.from_env(
        {
            "CIVICLINE_RASA_URL": "http://127.0.0.1:5005,http://127.0.0.1:5006",
            "CIVICLINE_RASA_URL_ES": "http://127.0.0.1:5105,http://127.0.0.1:5106/",
            "CIVICLINE_RASA_URL_FOO": "http://ignored",
        }
    )
    assert settings.rasa_urls() == {
        "en": "http://127.0.0.1:5005,http://127.0.0.1:5006",
        "es": "http://127.0.0.1:5105,http://127.0.0.1:5106",
    }
    router = LanguageRouter.from_urls(settings.rasa_urls())
    assert router.urls_for("es") == ["http://127.0.0.1:5105", "http://127.0.0.1:5106"]
    assert Settings.from_env({}).rasa_urls() == {"en": "http://127.0.0.1:5005"}


def test_every_language_row_has_its_files():
    for row in LANGUAGES.values():
        assert row.config.exists() and row.training_data.exists(), row.code
        assert row.held_out.exists() and row.held_out_speech.exists(), row.code
    assert lookup("xx").code == "en" and lookup(None).code == "en"
