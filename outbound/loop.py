"""The poll loop every background worker runs: a pass, a pause when idle, stop on a signal."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable


def run_until_stopped(
    one_pass: Callable[[], float | None],
    *,
    name: str,
    log: logging.Logger,
    pause_after_error: float,
) -> int:
    """Call `one_pass` until SIGTERM/SIGINT; it returns how long to wait (None or 0: go on).

    A pass that raises is logged and retried after `pause_after_error`, so a database hiccup
    never ends the worker (each worker's claims and leases make a retried pass safe).
    """
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        try:
            wait = one_pass()
        except Exception:
            log.exception("%s pass failed", name)
            wait = pause_after_error
        if wait:
            time.sleep(wait)
    return 0
