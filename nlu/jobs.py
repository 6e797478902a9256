"""`python -m nlu.jobs train VERSION_ID | evaluate VERSION_ID...`: background training, scoring.

Each holds a database lock for as long as it runs (`nlu.train`, `nlu.evaluate`), claimed in
the store rather than on this machine's disk, so the rule holds for every app machine.
"""

from __future__ import annotations

import sys

from cases.db import make_engine, make_session_factory
from nlu.versions import run_evaluation, run_training
from settings import Settings


def main(argv: list[str]) -> int:
    """Train (and evaluate) one queued version, or evaluate existing ones one after another.

    Several ids (`make run` registers one version per language) are scored in turn, since the
    evaluation lock allows one at a time.
    """
    ids = argv[1:]
    if (
        not argv
        or argv[0] not in ("train", "evaluate")
        or not ids
        or not all(i.isdigit() for i in ids)
        or (argv[0] == "train" and len(ids) != 1)
    ):
        print(
            "usage: python -m nlu.jobs train VERSION_ID | evaluate VERSION_ID...", file=sys.stderr
        )
        return 2
    settings = Settings.from_env()
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        if argv[0] == "evaluate":
            for version_id in ids:
                run_evaluation(
                    sessions=sessions,
                    version_id=int(version_id),
                    out=settings.model_dir / f"eval-v{version_id}",
                    created_by="make run",
                )
            return 0
        run_training(
            sessions=sessions,
            version_id=int(argv[1]),
            data_dir=settings.data_dir,
            model_dir=settings.model_dir,
        )
    except Exception as exc:  # recorded on the version and its job; the exit code tells the rest
        print(f"{argv[0]} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
