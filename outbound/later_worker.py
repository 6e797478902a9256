"""`python -m outbound.later_worker`: answer messages saved while the NLU was down."""

from __future__ import annotations

import logging
import signal
import sys
import time

from bot.later import answer_due
from nlu.client import NLUError
from runtime import build_runtime
from settings import Settings

log = logging.getLogger("civicline.later")


def main(poll_seconds: float = 5.0) -> int:
    """Poll for saved messages; answer them whenever the NLU answers a probe."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s later %(message)s")
    runtime = build_runtime(Settings.from_env())
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    def nlu_ready() -> bool:
        try:
            runtime.nlu.parse("hello")
        except NLUError:
            return False
        return True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("later-answer worker started")
    while running:
        try:
            handled = answer_due(engine=runtime.bot, sessions=runtime.Session, nlu_ready=nlu_ready)
            if handled:
                log.info("answered %d saved message(s)", handled)
            else:
                time.sleep(poll_seconds)
        except Exception:  # keep going through a database hiccup; the lease makes it safe
            log.exception("later-answer pass failed")
            time.sleep(poll_seconds * 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
