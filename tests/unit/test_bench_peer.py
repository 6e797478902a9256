"""The bench's peer assistant is started with a command `rasa run` can read."""

from __future__ import annotations

from pathlib import Path

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
