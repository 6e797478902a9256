"""The NLU client's parse moves on to the next Rasa server when one answers badly or not at all."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from nlu.client import NLUError, RasaClient
from tests.twilio_standin import JsonHandler


class Replica(JsonHandler):
    """A Rasa-like server whose `mode` decides how it answers /model/parse."""

    mode = "ok"
    texts: list[str]
    queries: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        said = json.loads(self.rfile.read(length))["text"]
        self.texts.append(said)
        self.queries.append(self.path)
        if self.mode == "500":
            self._json(500, {"error": "model is loading"})
        elif self.mode == "garbage":
            body = b"<html>not json</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.mode == "list":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")
        else:
            ranking = [{"name": "pothole", "confidence": 0.93}]
            self._json(
                200,
                {
                    "intent": ranking[0],
                    "entities": [{"entity": "street", "value": "Elm"}],
                    "intent_ranking": ranking,
                },
            )


def serve(mode: str) -> ThreadingHTTPServer:
    """Start one replica on loopback answering in `mode`."""
    handler = type(f"Replica_{mode}", (Replica,), {"mode": mode, "texts": [], "queries": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def refused_url() -> str:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def servers() -> Iterator[dict[str, ThreadingHTTPServer]]:
    started = {mode: serve(mode) for mode in ("ok", "500", "garbage", "list")}
    yield started
    for server in started.values():
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("bad", ["500", "garbage", "list", "refused"])
def test_parse_falls_over_to_the_next_server(servers, bad):
    bad_url = refused_url() if bad == "refused" else url(servers[bad])
    client = RasaClient(f"{bad_url},{url(servers['ok'])}", timeout=4.0)
    result = client.parse("/there is a pothole on Elm")
    assert result.intent == "pothole"
    assert result.confidence == pytest.approx(0.93)
    assert result.entities == [{"entity": "street", "value": "Elm"}]
    assert [r["name"] for r in result.ranking] == ["pothole"]
    # the intent-payload slash is stripped before either server sees the text
    assert servers["ok"].RequestHandlerClass.texts == ["there is a pothole on Elm"]
    if bad != "refused":
        assert servers[bad].RequestHandlerClass.texts == ["there is a pothole on Elm"]


def test_parse_raises_nlu_error_naming_each_failure_when_no_server_answers(servers):
    client = RasaClient(
        ",".join([url(servers["500"]), url(servers["garbage"]), refused_url()]), timeout=3.0
    )
    with pytest.raises(NLUError) as raised:
        client.parse("pothole")
    message = str(raised.value)
    assert "HTTPStatusError" in message
    assert "JSONDecodeError" in message
    assert message.count("127.0.0.1") == 3


def test_parse_sends_the_token_as_a_query_parameter(servers):
    client = RasaClient(url(servers["ok"]), token="s3cr&t", timeout=2.0)
    client.parse("pothole")
    assert servers["ok"].RequestHandlerClass.queries == ["/model/parse?token=s3cr%26t"]
