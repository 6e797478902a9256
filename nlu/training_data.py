"""Rasa NLU training data as text: the rules an example must pass, parsing and rendering YAML.

The examples themselves live in the database (nlu/training_store.py); this module only knows
Rasa's format, so the store, the seed file and `rasa data validate` agree on one shape.
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from nlu.rasa_cli import CONFIG, ROOT, run_rasa

ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
MAX_LENGTH = 500
HEADER = 'version: "3.1"\nnlu:\n'


class TrainingDataError(ValueError):
    """An edit that would make the training data invalid; nothing was changed."""


@dataclass
class Parsed:
    """A Rasa NLU file: intents with their examples in file order, other blocks verbatim."""

    intents: dict[str, list[str]] = field(default_factory=dict)
    extra_yaml: str = ""


def plain(example: str) -> str:
    """The example's text without entity markup, lower-cased, spaces collapsed (for duplicates)."""
    return " ".join(ENTITY_MARKUP.sub(r"\1", example).lower().split())


def clean(text: str) -> str:
    """The example as stored: whitespace collapsed, so a pasted line break cannot break YAML."""
    return " ".join(text.split())


def check_text(text: str) -> str:
    """The cleaned example, or TrainingDataError saying which rule it breaks (not duplicates)."""
    cleaned = clean(text)
    if not cleaned:
        raise TrainingDataError("an example cannot be empty")
    if len(cleaned) > MAX_LENGTH:
        raise TrainingDataError(f"examples are at most {MAX_LENGTH} characters")
    if cleaned.startswith(("/", "#", "-", "[")) and not ENTITY_MARKUP.match(cleaned):
        raise TrainingDataError("an example cannot start with '/', '#', '-' or '['")
    if cleaned.count("[") != cleaned.count("]") or cleaned.count("(") != cleaned.count(")"):
        raise TrainingDataError("unbalanced brackets: entity markup is [text](entity)")
    return cleaned


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def parse(text: str) -> Parsed:
    """Split a Rasa NLU file into intents' examples and its other blocks (regex, lookup...)."""
    doc = _yaml().load(text) or {}
    parsed, extras = Parsed(), []
    for block in doc.get("nlu", []) or []:
        if "intent" in block:
            parsed.intents[str(block["intent"])] = _lines(str(block.get("examples", "")))
        else:
            extras.append(block)
    if extras:
        buffer = io.StringIO()
        _yaml().dump(extras, buffer)
        parsed.extra_yaml = buffer.getvalue()
    return parsed


def render(intents: dict[str, list[str]], extra_yaml: str = "") -> str:
    """Rasa NLU YAML: intents in the given order (empty ones left out), then the other blocks."""
    out = [HEADER]
    for intent, examples in intents.items():
        if examples:
            out.append(f"- intent: {intent}\n  examples: |\n")
            out.extend(f"    - {example}\n" for example in examples)
    out.append(extra_yaml)
    return "".join(out)


def _lines(block: str) -> list[str]:
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


def validate_yaml(text: str, config: Path = CONFIG) -> None:
    """`rasa data validate` on training data given as text (written to a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="civicline-nlu-") as tmp:
        path = Path(tmp) / "nlu.yml"
        path.write_text(text, encoding="utf-8")
        validate(path, config)


def validate(path: Path, config: Path = CONFIG) -> None:
    """`rasa data validate` on a training file; TrainingDataError with Rasa's words if it fails."""
    try:
        run_rasa(
            [
                "data",
                "validate",
                "--data",
                str(path),
                "--domain",
                str(ROOT / "domain.yml"),
                "--config",
                str(config),
            ],
            cwd=ROOT,
        )
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines() if "rror" in line or "invalid" in line]
        raise TrainingDataError(
            "rasa data validate refused the change: " + (" ".join(lines[-3:]) or str(exc)[-300:])
        ) from exc
