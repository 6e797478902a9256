"""Editing Rasa's NLU training file in place (ruamel.yaml round trip), refusing invalid edits.

The file stays the source of truth: every save is written to a temporary copy, checked
(our rules, then `rasa data validate`), and only then moved over the original, so a refused
edit leaves the file exactly as it was.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from nlu.rasa_cli import CONFIG, ROOT, run_rasa

ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
MAX_LENGTH = 500


class TrainingDataError(ValueError):
    """An edit that would make the training data invalid; nothing was changed."""


def plain(example: str) -> str:
    """The example's text without entity markup, lower-cased, spaces collapsed (for duplicates)."""
    return " ".join(ENTITY_MARKUP.sub(r"\1", example).lower().split())


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


class TrainingData:
    """data/nlu.yml (or another Rasa NLU file) as intents and their examples."""

    def __init__(self, path: Path, *, validate_with_rasa: bool = True):
        self.path = path
        self.validate_with_rasa = validate_with_rasa

    def _load(self):  # type: ignore[no-untyped-def]
        return _yaml().load(self.path.read_text(encoding="utf-8"))

    def examples(self) -> dict[str, list[str]]:
        """Every intent's examples, in file order."""
        out: dict[str, list[str]] = {}
        for block in self._load().get("nlu", []):
            if "intent" in block:
                out[str(block["intent"])] = _lines(str(block.get("examples", "")))
        return out

    def find_duplicate(self, text: str) -> str | None:
        """The intent that already has this example (ignoring case and entity markup)."""
        wanted = plain(text)
        for intent, examples in self.examples().items():
            if any(plain(e) == wanted for e in examples):
                return intent
        return None

    def add(self, intent: str, text: str) -> None:
        """Add one example to an intent."""
        with self._edit() as doc:
            examples = _examples(doc, intent)
            _check_new(doc, text)
            examples.append(_clean(text))
            _store(doc, intent, examples)

    def edit(self, intent: str, old: str, new: str) -> None:
        """Replace one example of an intent."""
        with self._edit() as doc:
            examples = _examples(doc, intent)
            if old not in examples:
                raise TrainingDataError(f"{intent} has no example {old!r} (reload the page)")
            index = examples.index(old)
            examples.pop(index)
            _store(doc, intent, examples)
            _check_new(doc, new)
            examples.insert(index, _clean(new))
            _store(doc, intent, examples)

    def delete(self, intent: str, text: str) -> None:
        """Remove one example of an intent."""
        with self._edit() as doc:
            examples = _examples(doc, intent)
            if text not in examples:
                raise TrainingDataError(f"{intent} has no example {text!r} (reload the page)")
            examples.remove(text)
            _store(doc, intent, examples)

    @contextmanager
    def _edit(self) -> Iterator[object]:
        """Load, let the caller change, validate a temporary copy, then replace atomically."""
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            doc = self._load()
            yield doc
            buffer = io.StringIO()
            _yaml().dump(doc, buffer)
            fd, tmp = tempfile.mkstemp(prefix=".nlu-", suffix=".yml", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(buffer.getvalue())
                if self.validate_with_rasa:
                    validate(Path(tmp))
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)


def validate(path: Path) -> None:
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
                str(CONFIG),
            ],
            cwd=ROOT,
        )
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines() if "rror" in line or "invalid" in line]
        raise TrainingDataError(
            "rasa data validate refused the change: " + (" ".join(lines[-3:]) or str(exc)[-300:])
        ) from exc


def _lines(block: str) -> list[str]:
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


def _examples(doc, intent: str) -> list[str]:  # type: ignore[no-untyped-def]
    for block in doc.get("nlu", []):
        if block.get("intent") == intent:
            return _lines(str(block.get("examples", "")))
    raise TrainingDataError(f"unknown intent {intent!r}")


def _store(doc, intent: str, examples: list[str]) -> None:  # type: ignore[no-untyped-def]
    for block in doc.get("nlu", []):
        if block.get("intent") == intent:
            block["examples"] = LiteralScalarString("".join(f"- {e}\n" for e in examples))
            return


def _clean(text: str) -> str:
    return " ".join(text.split())


def _check_new(doc, text: str) -> None:  # type: ignore[no-untyped-def]
    cleaned = _clean(text)
    if not cleaned:
        raise TrainingDataError("an example cannot be empty")
    if len(cleaned) > MAX_LENGTH:
        raise TrainingDataError(f"examples are at most {MAX_LENGTH} characters")
    if cleaned.startswith(("/", "#", "-", "[")) and not ENTITY_MARKUP.match(cleaned):
        raise TrainingDataError("an example cannot start with '/', '#', '-' or '['")
    if cleaned.count("[") != cleaned.count("]") or cleaned.count("(") != cleaned.count(")"):
        raise TrainingDataError("unbalanced brackets: entity markup is [text](entity)")
    wanted = plain(cleaned)
    for block in doc.get("nlu", []):
        if "intent" in block and any(plain(e) == wanted for e in _lines(str(block["examples"]))):
            raise TrainingDataError(f"this example is already in {block['intent']}")
