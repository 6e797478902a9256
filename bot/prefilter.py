"""A literal prefilter for the lexicon's large regular expressions: same answers, far less time.

Python's `re` tries every alternative of a pattern at every position of the text, so the danger
lexicon's hundreds of phrases cost about a millisecond per message. Most messages contain none
of the words those phrases need. From a pattern's parse tree we take a set of strings of which
any match must contain at least one (the idea behind RE2's and Hyperscan's prefilters); a text
with none of them cannot match, and is answered without running the pattern. A text with one of
them, a pattern we cannot read that way, or a text outside ASCII runs the pattern as before.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

Needles = frozenset[str]

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_MAX_EXACT = 256  # "(a|b) (c|d)" is spelled out as 4 strings; past this, kept as needles


class _Info:
    """What a piece of pattern matches: exactly one of a few strings, or text holding a needle."""

    def __init__(self, exact: set[str] | None = None, needles: Needles | None = None):
        self.exact = exact  # every string the piece can match (lower-case), when few
        self.needles = needles  # otherwise: strings one of which its matches contain (or None)

    def required(self) -> Needles | None:
        if self.exact is not None:
            return None if "" in self.exact else frozenset(self.exact)
        return self.needles


def needles(pattern: str) -> Needles | None:
    """Lower-case strings one of which every match contains, or None if there is no such set."""
    return _sequence(sre_parse.parse(pattern).data).required() or None


def _better(a: Needles | None, b: Needles | None) -> Needles | None:
    """The more selective of two requirements: longer shortest needle, then fewer needles."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda s: (min(map(len, s)), -len(s)))


def _sequence(items: list[tuple[Any, Any]]) -> _Info:
    """Adjacent exact pieces are joined ("fire " + "truck|hydrant"); any piece's needles do."""
    best: Needles | None = None
    exact: set[str] | None = {""}
    for op, av in items:
        info = _item(op, av)
        joined = exact is not None and info.exact is not None
        if joined and len(exact) * len(info.exact) <= _MAX_EXACT:  # type: ignore[arg-type]
            exact = {a + b for a in exact for b in info.exact}  # type: ignore[union-attr]
            continue
        if exact is not None:
            best = _better(best, _Info(exact).required())
        best = _better(best, info.required())
        exact = info.exact
    if exact is not None and best is None:
        return _Info(exact)
    if exact is not None:
        best = _better(best, _Info(exact).required())
    return _Info(needles=best)


def _item(op: Any, av: Any) -> _Info:
    if op is sre.LITERAL:
        return _Info({chr(av).lower()}) if av < 128 else _Info()
    if op in _ZERO_WIDTH:  # a look-around or \b sits between characters, not in them
        return _Info({""})
    if op is sre.IN and all(kind is sre.LITERAL and value < 128 for kind, value in av):
        return _Info({chr(value).lower() for _, value in av})
    if op is sre.SUBPATTERN:
        return _sequence(av[-1].data)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(av.data)
    if op in _REPEATS:
        low, high, inner = av
        found = _sequence(inner.data)
        if low == 0 and high == 1 and found.exact is not None:
            return _Info(found.exact | {""})
        return _Info(needles=found.required()) if low >= 1 else _Info()
    if op is sre.BRANCH:
        branches = [_sequence(branch.data) for branch in av[1]]
        if all(b.exact is not None for b in branches):
            union = set().union(*(b.exact for b in branches))  # type: ignore[misc]
            if len(union) <= _MAX_EXACT:
                return _Info(union)
        needed: set[str] = set()
        for branch in branches:
            found = branch.required()
            if found is None:
                return _Info()  # one branch can match without any known string
            needed |= found
        return _Info(needles=frozenset(needed))
    return _Info()


class Prefiltered:
    """A compiled pattern that skips texts holding none of its needles (search and sub only)."""

    def __init__(self, compiled: re.Pattern[str]):
        self.compiled = compiled
        self.pattern = compiled.pattern
        index = _index(compiled.pattern)
        self.needles, self._short, self._by_key, self._keys = index

    def _cannot_match(self, text: str) -> bool:
        if self.needles is None or not text.isascii():
            return False
        lowered, grams = _grams(text)
        if not self._short.isdisjoint(grams):
            return False
        by_key = self._by_key
        for key in self._keys.intersection(grams):
            if any(needle in lowered for needle in by_key[key]):
                return False
        return True

    def search(self, text: str) -> re.Match[str] | None:
        """As `re.Pattern.search`."""
        return None if self._cannot_match(text) else self.compiled.search(text)

    def sub(self, repl: str, text: str) -> str:
        """As `re.Pattern.sub` with a string replacement."""
        return text if self._cannot_match(text) else self.compiled.sub(repl, text)


Index = tuple[Needles | None, frozenset[str], dict[str, tuple[str, ...]], frozenset[str]]


@cache  # the app and the tests load the lexicon many times: each pattern is read once
def _index(pattern: str) -> Index:
    """A pattern's needles: those of one or two letters as they are (looked up among the text's
    letters and pairs), longer ones under the three-letter piece of theirs that the fewest
    other needles share, so a text's common pieces ("the", "in ") lead to few needles."""
    found = needles(pattern)
    short = frozenset(n for n in found or () if len(n) < 3)
    pieces = {n: _trigrams(n) for n in sorted(n for n in found or () if len(n) >= 3)}
    shared = Counter(t for trigrams in pieces.values() for t in trigrams)
    by_key: dict[str, tuple[str, ...]] = {}
    for needle, trigrams in pieces.items():
        key = min(trigrams, key=lambda t: (shared[t], t))
        by_key[key] = (*by_key.get(key, ()), needle)
    return found, short, by_key, frozenset(by_key)


def _trigrams(text: str) -> set[str]:
    """The three-letter pieces of a needle: any one of them can key it (a text holds them all)."""
    return {text[i : i + 3] for i in range(len(text) - 2)}


_last: tuple[str, str, frozenset[str]] = ("", "", frozenset())


def _grams(text: str) -> tuple[str, frozenset[str]]:
    """The text lower-cased, and its letters, pairs and three-letter pieces (kept for the next
    pattern on the same text)."""
    global _last
    seen, lowered, grams = _last  # one tuple, read at once: safe with threads
    if seen != text:
        lowered = text.lower()
        n = len(lowered)
        grams = frozenset(
            [*lowered, *(lowered[i : i + 2] for i in range(n - 1))]
            + [lowered[i : i + 3] for i in range(n - 2)]
        )
        _last = (text, lowered, grams)
    return lowered, grams
