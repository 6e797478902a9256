"""Starting and stopping `rasa run --enable-api` on loopback, and waiting until it parses."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from pathlib import Path

from nlu.client import NLUError, RasaClient
from nlu.languages import DEFAULT, lookup
from nlu.rasa_cli import ROOT, rasa_bin, rasa_env


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaServer:
    """A Rasa NLU server process serving one model (of one language)."""

    def __init__(
        self,
        model: Path,
        *,
        port: int | None = None,
        token: str | None = None,
        log_path: Path | None = None,
        language: str = DEFAULT,
    ):
        self.model = model
        self.language = lookup(language).code
        self.port = port or free_port()
        self.token = token or secrets.token_urlsafe(16)
        self.log_path = log_path or ROOT / "var" / "rasa-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 5.0) -> RasaClient:
        """A client for this server."""
        return RasaClient(self.url, self.token, timeout=timeout)

    def start(self, *, wait: float = 240.0) -> RasaServer:
        """Start the server and return once it has loaded the model and answered warm-up parses."""
        self.spawn()
        self.wait_ready(wait)
        return self

    def command(self) -> list[str]:
        """`rasa run` for this server (the token as one word: it may start with "-")."""
        return [
            str(rasa_bin()),
            "run",
            "--enable-api",
            "--model",
            str(self.model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.port),
            f"--auth-token={self.token}",
            "--log-file",
            str(self.log_path),
        ]

    def spawn(self) -> RasaServer:
        """Start the process without waiting (start several, then wait_ready on each)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, env=rasa_env(), stdout=log, stderr=subprocess.STDOUT
        )
        return self

    def wait_ready(self, wait: float) -> None:
        """Poll until a model is loaded and parses work; raise with the log tail if not."""
        client = self.client(timeout=10.0)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"rasa server exited early:\n{self._tail()}")
            try:
                if client.status().get("model_file"):
                    for text in lookup(self.language).warm_up:
                        client.parse(text)
                    return
            except NLUError:
                pass
            time.sleep(1.0)
        self.stop()
        raise TimeoutError(f"rasa server not ready after {wait:.0f}s:\n{self._tail()}")

    def _tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
