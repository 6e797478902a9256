"""Reading the YAML data files: with libyaml's C parser when PyYAML has it (5-10x faster).

Every app (and every test app) parses the catalogues, messages and danger words once; the pure
Python parser made that 0.4 s per app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """A YAML file's data, parsed safely."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
