"""A reconciler in a thread for tests: the machine's side of an activation, as make run has it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from nlu.reconcile import Reconciler


@contextmanager
def reconciling(
    sessions: sessionmaker[Session],
    replicas: dict[str, list[str]],
    *,
    token: str | None,
    cache_dir: Path,
    machine: str = "test-machine",
    every: float = 0.2,
) -> Iterator[Reconciler]:
    """Run a machine's reconciler (short drain and pause) until the block ends."""
    reconciler = Reconciler(
        sessions=sessions,
        machine=machine,
        replicas=replicas,
        token=token,
        cache_dir=cache_dir,
        drain_seconds=0.6,
        pause_seconds=0.2,
        load_timeout=120,
    )
    reconciler.step()  # its replicas are reported before the test activates anything
    stop = threading.Event()
    thread = threading.Thread(target=reconciler.run, args=(stop, every), daemon=True)
    thread.start()
    try:
        yield reconciler
    finally:
        stop.set()
        thread.join(150)
