"""The lexicon's literal prefilter: it skips a pattern only on texts the pattern cannot match."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import yaml

from bot.prefilter import Prefiltered, needles
from bot.safety import DangerDetector, normalise

ROOT = Path(__file__).parents[2]
DETECTOR = DangerDetector.load(ROOT / "data" / "danger.yml")
PATTERNS = {
    "safe": DETECTOR.safe,
    "possible": DETECTOR.possible,
    **{f"danger.{name}": pattern for name, pattern in DETECTOR.danger.items()},
}


def _texts() -> list[str]:
    """Every resident-like text the repository holds: training examples and emergency sets."""
    texts: list[str] = []
    for path in [ROOT / "data" / "nlu.yml", ROOT / "data" / "es" / "nlu.yml"]:
        for block in yaml.safe_load(path.read_text())["nlu"]:
            examples = block.get("examples") or ""
            texts += [line[2:] for line in examples.splitlines() if line.startswith("- ")]
    for path in sorted((ROOT / "tests" / "emergency").glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for value in data.values() if isinstance(data, dict) else [data]:
            texts += [t for t in value if isinstance(t, str)] if isinstance(value, list) else []
    return [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t) for t in texts]  # entity markup off


TEXTS = _texts()


def test_the_corpus_is_large_and_holds_dangers() -> None:
    assert len(TEXTS) > 2000
    assert sum(DETECTOR.lexicon(t).reason in DETECTOR.danger for t in TEXTS) > 100


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_same_answers_as_the_pattern_on_every_text(name: str) -> None:
    pattern = PATTERNS[name]
    assert pattern.needles, "the lexicon's patterns all have needles: else nothing is skipped"
    rng = random.Random(14)
    texts = [normalise(t) for t in rng.sample(TEXTS, 2500)]  # a sample: each check runs the regex
    # and fragments: the end of one text glued to the start of another
    texts += [
        a[len(a) // 2 :] + " " + b[: len(b) // 2]
        for a, b in zip(texts[:800], rng.sample(texts, 800), strict=True)
    ]
    skipped = 0
    for text in texts:  # where it does not skip, it runs the very same pattern
        if pattern._cannot_match(text):
            skipped += 1
            assert pattern.compiled.search(text) is None, text
            assert pattern.search(text) is None and pattern.sub(" _ ", text) == text
    assert skipped > len(texts) // 4, "the prefilter should spare most texts most patterns"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"fire (truck|hydrant)s?", {"fire truck", "fire trucks", "fire hydrant", "fire hydrants"}),
        (r"\b(?<!call )smoke\w+", {"smoke"}),
        (r"(a|b)?c", {"c", "ac", "bc"}),
        (r"gas\b.{0,40}\bleak", {"leak"}),
        (r"(x|y+)", None),  # y+ can be any number of y: no finite set, and x alone is short
        (r"\w+", None),
        (r"(fire|.*)", None),  # one branch needs nothing
        (r"[cb]at", {"cat", "bat"}),
        (r"Gas", {"gas"}),  # lower-cased: the prefilter compares lower-cased text
    ],
)
def test_needles(pattern: str, expected: set[str] | None) -> None:
    found = needles(pattern)
    if expected is None and pattern == r"(x|y+)":
        assert found is None or "x" in found
        return
    assert (None if found is None else set(found)) == expected


def test_case_and_non_ascii_text_are_never_skipped_wrongly() -> None:
    pattern = Prefiltered(re.compile(r"\bfire (truck|alarm)", re.IGNORECASE))
    assert pattern.search("FIRE TRUCK outside")
    assert pattern.search("no dangers here") is None
    assert not pattern._cannot_match("caf\u00e9 fire")  # outside ASCII: the pattern runs
    kelvin = Prefiltered(re.compile(r"\bkettle", re.IGNORECASE))
    assert kelvin.search("\u212aettle") is not None  # Kelvin sign folds to k under IGNORECASE
