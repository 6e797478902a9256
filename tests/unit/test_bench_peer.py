"""The bench's servers: started with a command `rasa run` can read, stopped however it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bench_stack
from scripts.bench_stack import PeerServer


def test_peer_token_starting_with_a_dash_stays_the_auth_tokens_value(tmp_path: Path) -> None:
    """secrets.token_urlsafe can begin with "-": as a word of its own, argparse read it as an
    option and `rasa run` exited ("--auth-token: expected one argument"), failing `make bench`."""
    peer = PeerServer(tmp_path / "peer.tar.gz", token="-Qx9", log_path=tmp_path / "peer.log")
    command = peer.command()
    assert "--auth-token=-Qx9" in command
    assert "-Qx9" not in command
    assert command[command.index("--credentials") + 1] == str(
        tmp_path / "bench-peer-credentials.yml"
    )
    assert "--enable-api" in command


def test_servers_are_stopped_when_one_of_them_fails_to_start(monkeypatch) -> None:
    """A peer that exited at start-up left both CivicLine Rasa replicas running after the bench
    had failed (found as two stray `rasa run` processes, ~0.6 GB each)."""
    events: list[str] = []

    def failing_start(self: bench_stack.Stacks) -> bench_stack.Stacks:
        events.append("start")
        raise RuntimeError("rasa server exited early")

    monkeypatch.setattr(bench_stack.Stacks, "__init__", lambda self, logs: None)
    monkeypatch.setattr(bench_stack.Stacks, "start", failing_start)
    monkeypatch.setattr(bench_stack.Stacks, "stop", lambda self: events.append("stop"))
    with pytest.raises(RuntimeError, match="exited early"):
        bench_stack.main()
    assert events == ["start", "stop"]
