"""Starting NLU background jobs as processes of their own, with what they need to reach the app.

A job outlives the web worker that started it (its own session), so it must be given the store
and every language's Rasa servers through its environment.
"""

from __future__ import annotations

import os

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
