"""`python -m nlu.jobs train VERSION_ID`: the background training job the console starts."""

from __future__ import annotations

import fcntl
import sys

from cases.db import make_engine, make_session_factory
from nlu.versions import evaluate_version, train
from settings import Settings


def main(argv: list[str]) -> int:
    """Train (and evaluate) one queued version, or evaluate an existing one."""
    if len(argv) != 2 or argv[0] not in ("train", "evaluate") or not argv[1].isdigit():
        print("usage: python -m nlu.jobs train|evaluate VERSION_ID", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        if argv[0] == "evaluate":
            evaluate_version(
                sessions=sessions,
                version_id=int(argv[1]),
                out=settings.model_dir / f"eval-v{argv[1]}",
            )
            return 0
        with open(settings.model_dir / ".training.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # belt and braces: one rasa train per machine
            train(
                sessions=sessions,
                version_id=int(argv[1]),
                data=settings.data_dir / "nlu.yml",
                model_dir=settings.model_dir,
            )
    except Exception as exc:  # recorded on the version; the exit code tells the rest
        print(f"{argv[0]} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
