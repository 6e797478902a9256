"""Starting NLU background jobs as processes of their own, with what they need to reach the app.

A job outlives the web worker that started it (its own session), so it must be given the store
and every language's Rasa servers through its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nlu.languages import ROOT
from settings import Settings


def job_env(settings: Settings) -> dict[str, str]:
    """The environment a background job needs to reach this app's store and Rasa servers."""
    return dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        CIVICLINE_RASA_URL=settings.rasa_url,
        **{f"CIVICLINE_RASA_URL_{k.upper()}": v for k, v in settings.rasa_language_urls.items()},
        CIVICLINE_RASA_TOKEN=settings.rasa_token or "",
        CIVICLINE_DATA_DIR=str(settings.data_dir),
        CIVICLINE_MODEL_DIR=str(settings.model_dir),
    )


def launch(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `python -m nlu.activation ARGS` in its own session, so it outlives a web worker."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "nlu.activation", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
