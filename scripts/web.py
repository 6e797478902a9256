"""Starting the app under gunicorn and waiting until /healthz says it is ready."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from settings import ROOT


def start_gunicorn(
    env: Mapping[str, str], *, quiet: bool = False, cwd: Path = ROOT, log: str | None = None
) -> subprocess.Popen[bytes]:
    """gunicorn serving app:create_app() with gunicorn.conf.py and the given environment.

    `cwd` is the machine's working directory (the code is found in the project either way).
    `log` names a file under var/log/ that takes its output (the app's one JSON line per
    request) instead of the terminal, so a benchmark's table is not buried under them.
    """
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--pythonpath",
        str(ROOT),
        "app:create_app()",
    ]
    if quiet:
        cmd += ["--access-logfile", "/dev/null"]
    if log is None:
        return subprocess.Popen(cmd, cwd=cwd, env=dict(env))
    path = ROOT / "var" / "log" / log
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:  # the child keeps its own descriptor
        print(f"gunicorn's output: {path.relative_to(ROOT)}", flush=True)
        return subprocess.Popen(cmd, cwd=cwd, env=dict(env), stdout=out, stderr=out)


def wait_healthy(
    base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0, *, need_nlu: bool = True
) -> bool:
    """Poll GET {base}/healthz until 200 (or any answer, if the NLU may be down); False if the
    process died or time ran out."""
    wanted = {200} if need_nlu else {200, 503}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(base + "/healthz", timeout=2).status_code in wanted:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Terminate, then kill if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
