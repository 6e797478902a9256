"""`make run`'s supervisor: restart whatever process dies (a Rasa replica, a worker).

gunicorn already restarts its own workers; this restarts the processes beside it. A process
that keeps dying is restarted with a growing pause, so a broken one does not spin the CPU.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_PAUSE = 60.0


@dataclass
class Child:
    """One supervised process: how to start it, and its restart history."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    restart_at: float | None = None  # set while a dead child waits for its restart
    deaths: list[float] = field(default_factory=list)

    def launch(self) -> None:
        self.proc = self.start()


def check(children: list[Child], log: Callable[[str], None], now: float | None = None) -> int:
    """Restart each child that has exited (after its pause); returns how many were restarted."""
    now = time.monotonic() if now is None else now
    restarted = 0
    for child in children:
        if child.proc is None or child.proc.poll() is None:
            continue
        if child.restart_at is None:  # just found dead
            child.deaths = [t for t in child.deaths if now - t < 300] + [now]
            pause = 0.0 if len(child.deaths) == 1 else min(2.0 ** len(child.deaths), MAX_PAUSE)
            child.restart_at = now + pause
            log(
                f"{child.name} exited with code {child.proc.returncode}; "
                + (f"restarting in {pause:.0f} s" if pause else "restarting")
            )
        if now >= child.restart_at:
            child.launch()
            child.restart_at = None
            child.restarts += 1
            restarted += 1
    return restarted


def supervise(
    children: list[Child],
    main: subprocess.Popen[bytes],
    log: Callable[[str], None],
    poll: float = 2.0,
) -> None:
    """Until `main` (gunicorn) exits or Ctrl-C: restart children that die."""
    while main.poll() is None:
        check(children, log)
        time.sleep(poll)
