"""A local stand-in for Twilio's REST API: records Messages.json requests, can fail on cue."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers JSON (the stand-ins' common part)."""

    def _json(self, status: int, payload: dict[str, object]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class TwilioStandIn:
    """Serve on loopback; `failures` is a list of (status, code) answered before succeeding.

    `list_failures` does the same for message look-ups (GET), and `delay` holds each accepted
    message's answer back that many seconds (Twilio took it, but the client may time out first).
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.failures: list[tuple[int, int]] = []
        self.list_failures: list[tuple[int, int]] = []
        self.lookups = 0
        self.delay = 0.0
        standin = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if standin.failures:
                    status, code = standin.failures.pop(0)
                    self._json(
                        status, {"code": code, "message": "stand-in failure", "status": status}
                    )
                    return
                standin.requests.append({"path": self.path, **form})
                sid = f"SM{len(standin.requests):032x}"
                if standin.delay:
                    time.sleep(standin.delay)
                self._json(
                    201,
                    {
                        "sid": sid,
                        "status": "queued",
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                    },
                )

            def do_GET(self) -> None:
                standin.lookups += 1
                if standin.list_failures:
                    status, code = standin.list_failures.pop(0)
                    self._json(
                        status, {"code": code, "message": "stand-in failure", "status": status}
                    )
                    return
                query = {k: v[0] for k, v in parse_qs(self.path.partition("?")[2]).items()}
                found = [
                    {
                        "sid": f"SM{i:032x}",
                        "to": r.get("To"),
                        "from": r.get("From"),
                        "body": r.get("Body"),
                        "messaging_service_sid": r.get("MessagingServiceSid"),
                        "status": "sent",
                    }
                    for i, r in enumerate(standin.requests, 1)
                    if r.get("To") == query.get("To", r.get("To"))
                ]
                self._json(
                    200,
                    {
                        "messages": found,
                        "next_page_uri": None,
                        "page": 0,
                        "page_size": 50,
                        "uri": self.path,
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
