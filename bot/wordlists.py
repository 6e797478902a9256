"""Per-language word lists from data/words.yml, loaded once, and accent-free matching."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from datafiles import load_yaml

WORDS_YML = Path(__file__).resolve().parents[1] / "data" / "words.yml"
LANGUAGES = ("en", "es")


@cache
def table(language: str) -> dict[str, Any]:
    """The lists for one language (empty for English, whose lists live in code)."""
    return (load_yaml(WORDS_YML) or {}).get(language) or {}


@cache
def words(language: str, key: str) -> frozenset[str]:
    """One list as a set of folded entries, so "sí" in the data matches "si" typed."""
    return frozenset(fold(str(w)) for w in table(language).get(key) or ())


@cache
def pattern(language: str, key: str, how: str = "search") -> re.Pattern[str]:
    """A list as one pattern: regex fragments to search for, or exact phrases ("whole": the
    entire text is one; "start": the text opens with one)."""
    parts = [str(p) for p in table(language).get(key) or ()]
    if not parts:
        return re.compile(r"(?!x)x")  # matches nothing
    if how == "search":
        return re.compile(rf"\b({'|'.join(f'(?:{p})' for p in parts)})\b")
    phrases = "|".join(re.escape(fold(p)) for p in sorted(parts, key=len, reverse=True))
    return re.compile(rf"^({phrases})$" if how == "whole" else rf"^({phrases})\b")


def fold(text: str) -> str:
    """Lower-case without accents or Spanish opening marks: "¿Dónde?" -> "donde?".

    The one accent folding: danger words, choices, language names and word lists all use it.
    """
    if text.isascii():  # most messages: nothing to decompose, no ¿ or ¡
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("¿", " ").replace("¡", " ")


def plain(text: str) -> str:
    """Folded, with punctuation dropped and spaces collapsed: "¡Sí, claro!" -> "si claro"."""
    text = re.sub(r"[^\w\s#/'-]", " ", fold(text)).replace("'", "").replace("\u2019", "")
    return re.sub(r"\s+", " ", text).strip(" -")


def fold_in_place(text: str) -> str:
    """fold() one character for one, so spans found in it can be cut from the original."""
    return "".join((fold(c) or c)[:1] if len(fold(c)) == 1 else c for c in text)
