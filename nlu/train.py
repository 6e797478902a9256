"""`python -m nlu.train [LANG...]`: make sure each language's model exists; print their paths."""

from __future__ import annotations

import sys

from nlu.languages import LANGUAGES
from nlu.rasa_cli import ensure_model

if __name__ == "__main__":
    for code in sys.argv[1:] or LANGUAGES:
        print(ensure_model(code))
