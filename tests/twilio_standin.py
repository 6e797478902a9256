"""A local stand-in for Twilio's REST API: records Messages.json requests, can fail on cue.

It also keeps MMS media as Twilio does: `add_media` stores bytes under a media URL of the
account, served only with the account's HTTP basic auth, and a DELETE removes them (recorded
in `deleted`). `media_gets` counts downloads; `media_failures` answers GETs with errors first.
"""

from __future__ import annotations

import base64
import itertools
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
        self.account_sid = "AC" + "0" * 32
        self.auth_token = "test-auth-token-0123456789abcdef"
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_gets: list[str] = []
        self.media_failures: list[int] = []
        self.deleted: list[str] = []
        self.media_redirect: str | None = None  # answer media GETs with a redirect here
        self._media_ids = itertools.count(1)
        standin = self

        class Handler(JsonHandler):
            def _authorised(self) -> bool:
                expected = f"{standin.account_sid}:{standin.auth_token}".encode()
                sent = self.headers.get("Authorization", "")
                return sent == "Basic " + base64.b64encode(expected).decode()

            def _media(self) -> None:
                if not self._authorised():
                    self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                standin.media_gets.append(self.path)
                if standin.media_redirect:
                    self.send_response(307)
                    self.send_header("Location", standin.media_redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if standin.media_failures:
                    status = standin.media_failures.pop(0)
                    self._json(status, {"code": 0, "message": "stand-in failure"})
                    return
                found = standin.media.get(self.path)
                if found is None:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[1])
                self.send_header("Content-Length", str(len(found[0])))
                self.end_headers()
                self.wfile.write(found[0])

            def do_DELETE(self) -> None:
                if "/Media/" not in self.path or not self._authorised():
                    self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                if standin.media.pop(self.path, None) is None:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                standin.deleted.append(self.path)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

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
                if "/Media/" in self.path:
                    self._media()
                    return
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

    def add_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Keep bytes as an MMS attachment of the account; returns its media URL."""
        n = next(self._media_ids)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/MM{n:032x}/Media/ME{n:032x}"
        self.media[path] = (data, content_type)
        return self.url + path

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
