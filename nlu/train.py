"""`python -m nlu.train`: make sure a model for config.yml + data/nlu.yml exists; print its path."""

from __future__ import annotations

from nlu.rasa_cli import ensure_model

if __name__ == "__main__":
    print(ensure_model())
