"""A stand-in Rasa server for gunicorn tests that need /healthz ready but no real NLU (~1 GB)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

from tests.twilio_standin import JsonHandler


class RasaStandIn:
    """GET /status answers as a server with a model loaded; parses answer 503 (NLU down)."""

    def __init__(self) -> None:
        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._json(200, {"model_file": "stand-in.tar.gz"})

            def do_POST(self) -> None:
                self._json(503, {"error": "down"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.token = "stand-in-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
