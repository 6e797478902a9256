"""`python -m outbound.later_worker`: answer messages saved while the NLU was down."""

from __future__ import annotations

import logging
import sys

from bot.later import answer_due
from nlu.client import NLUError
from outbound.loop import run_until_stopped
from runtime import build_runtime
from settings import Settings

log = logging.getLogger("civicline.later")


def main(poll_seconds: float = 5.0) -> int:
    """Poll for saved messages; answer them whenever the NLU answers a probe."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s later %(message)s")
    runtime = build_runtime(Settings.from_env())

    def nlu_ready() -> bool:
        try:
            runtime.nlu.parse("hello")
        except NLUError:
            return False
        return True

    def one_pass() -> float:
        handled = answer_due(engine=runtime.bot, sessions=runtime.Session, nlu_ready=nlu_ready)
        if handled:
            log.info("answered %d saved message(s)", handled)
        return 0 if handled else poll_seconds

    log.info("later-answer worker started")
    return run_until_stopped(
        one_pass,
        name="later-answer",
        log=log,
        pause_after_error=poll_seconds * 3,
    )


if __name__ == "__main__":
    sys.exit(main())
