"""Spanish address phrasing ("en el 120 de la calle Elm") rewritten into the English the
street finder reads ("on 120 elm street"); the city's street names stay English."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

from rapidfuzz import fuzz

from bot import wordlists

NUMBER_RE = re.compile(r"^\d{1,6}[a-z]?$")
ORDINAL_RE = re.compile(r"^(\d{1,2})(er|ra|ro|do|da|to|ta|mo|ma|vo|va|no|na|a|o|st|nd|rd|th)$")
MONTHS = "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
MONTHS += "noviembre|diciembre"


class _Street(Protocol):
    core: tuple[str, ...]
    suffix: str | None


def _places() -> dict[str, Any]:
    return wordlists.table("es").get("places") or {}


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _spanish_ordinal(tok: str, *, bare_digits: bool) -> str | None:
    """'tercera', '3ra', '3a' (or '3' right after "calle") as the English '3rd'."""
    words = _places().get("ordinals") or {}
    if tok in words:
        return _ordinal(int(words[tok]))
    if match := ORDINAL_RE.match(tok):
        return _ordinal(int(match.group(1)))
    if bare_digits and tok.isdigit() and len(tok) <= 2:
        return _ordinal(int(tok))
    return None


@cache
def _patterns(key: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in _places().get(key) or ()]


class SpanishPlaces:
    """The city's street names, read inside Spanish sentences."""

    def __init__(self, streets: Iterable[_Street], english_suffixes: Iterable[str]):
        self.english_suffixes = set(english_suffixes)
        self.suffixes: dict[tuple[str, ...], set[str | None]] = {}
        for street in streets:
            self.suffixes.setdefault(street.core, set()).add(street.suffix)
        self.cores = sorted(self.suffixes, key=len, reverse=True)
        places = _places()
        self.types: dict[str, str] = dict(places.get("street_types") or {})
        self.articles = {str(w) for w in places.get("articles") or ()}
        self.not_names = {str(w) for w in places.get("not_names") or ()}
        self.phrases = [
            (re.compile(rf"(?<!\S){key.lstrip()}"), english)
            for key, english in (places.get("phrases") or {}).items()
        ]
        number_words = "|".join(re.escape(w) for w in places.get("number_words") or ())
        self.number_word = re.compile(rf"(?<!\S)({number_words})\s*(?=\d)")
        self.number_of = re.compile(
            rf"(?<!\S)(\d{{1,6}}[a-z]?) (?:de|del)(?: la| el)?(?=\s)(?! (?:{MONTHS})\b)"
        )
        types = "|".join(sorted(map(re.escape, self.types), key=len, reverse=True))
        cores = "|".join(r"\s+".join(map(re.escape, c)) for c in self.cores)
        self.named = re.compile(rf"\b({types})\.?\s+((de|del)\s+)?({cores})\b")

    # ------------------------------------------------------------------ rewriting
    def to_english(self, text: str) -> str:
        """'la calle Elm 120' -> '120 elm street'; 'esquina de Elm y Main' -> 'corner of elm and
        main'; what is not about a place passes through (lower-cased, without accents)."""
        capitalised = {wordlists.fold(w) for w in re.findall(r"\b[^\W\d_a-z]\w*", text)}
        said = " " + wordlists.fold(text) + " "
        said = re.sub(r"([,;:!?()])", r" \1 ", said)
        said = self.number_word.sub(" ", said)
        said = self.number_of.sub(r"\1", said)
        for pattern, english in self.phrases:
            said = pattern.sub(english, said)
        if " corner" in said:
            said = re.sub(r"(?<!\S)con(?!\S)", "and", said)  # "esquina de Elm con Main"
        toks = said.split()
        out: list[str] = []
        i = 0
        while i < len(toks):
            tok, nxt = toks[i], toks[i + 1] if i + 1 < len(toks) else ""
            if tok in self.articles:
                i += 1
                continue
            if tok.rstrip(".") in self.types and (named := self._named(toks, i, capitalised)):
                words, i = named
                out += words
                continue
            ordinal = _spanish_ordinal(tok, bare_digits=False)
            if ordinal and nxt.rstrip(".") in self.types:
                english = self.types[nxt.rstrip(".")]
                suffix = self._suffix((ordinal,), english)
                number, i = self._number_after(toks, i + 2)
                out += [number, ordinal, suffix] if number else [ordinal, suffix]
                continue
            if (core := self._core_at(toks, i)) and not (out and NUMBER_RE.match(out[-1])):
                end = i + len(core)
                suffix = toks[end] if end < len(toks) and toks[end] in self.english_suffixes else ""
                number, after = self._number_after(toks, end + (1 if suffix else 0))
                if number:
                    out += [number, *core, *([suffix] if suffix else [])]
                    i = after
                    continue
            if tok == "y" or (tok == "e" and re.match(r"h?i", nxt)):
                tok = "and"
            out.append(tok)
            i += 1
        return " ".join(out)

    def _named(
        self, toks: list[str], i: int, capitalised: set[str]
    ) -> tuple[list[str], int] | None:
        """A street type and the name after it, with a house number that follows."""
        english = self.types[toks[i].rstrip(".")]
        j = i + 1
        while j < len(toks) and toks[j] in {"de", "del", *self.articles}:
            j += 1
        if j >= len(toks):
            return None
        core = self._core_at(toks, j) or self._close_core(toks[j])
        if core is None and (ordinal := _spanish_ordinal(toks[j], bare_digits=True)):
            core = (ordinal,) if (ordinal,) in self.suffixes else None
        if core is None:
            name = toks[j]
            if name in self.not_names or not name.isalpha() or name not in capitalised:
                return None
            core = (name,)  # a street we do not know: the finder asks about "Foo Street"
            width = 1
        else:
            width = len(core) if tuple(toks[j : j + len(core)]) == core else 1
        suffix = self._suffix(core, english)
        number, end = self._number_after(toks, j + width)
        words = [*core, suffix] if suffix else [*core]
        return ([number, *words] if number else words), end

    def _suffix(self, core: tuple[str, ...], english: str) -> str:
        """'calle Maple' is Maple Avenue when Maple has no Street; else the type as said."""
        known = self.suffixes.get(core, set())
        if english in known or len(known) != 1:
            return english
        return next(iter(known)) or ""

    def _core_at(self, toks: list[str], i: int) -> tuple[str, ...] | None:
        return next((c for c in self.cores if tuple(toks[i : i + len(c)]) == c), None)

    def _close_core(self, tok: str) -> tuple[str, ...] | None:
        """A misspelled one-word name after a street type ('calle Mapel')."""
        if len(tok) < 5 or not tok.isalpha():
            return None
        close = [
            (fuzz.ratio(tok, c[0]), c)
            for c in self.cores
            if len(c) == 1 and len(c[0]) >= 5 and c[0][0] == tok[0]
        ]
        score, core = max(close, default=(0.0, None))
        return core if score >= 80 else None

    @staticmethod
    def _number_after(toks: list[str], j: int) -> tuple[str | None, int]:
        if j < len(toks) and toks[j] == ",":
            j += 1
        if j < len(toks) and NUMBER_RE.match(toks[j]):
            return toks[j], j + 1
        return None, j

    # ------------------------------------------------------------------ blanking
    def without_streets(self, text: str) -> str:
        """The text with Spanish-phrased street names blanked ("la calle Water")."""
        return _blank(text, [self.named])


def _blank(text: str, patterns: list[re.Pattern[str]]) -> str:
    """Blank in the original text what the patterns find in its accent-free lower case."""
    folded = wordlists.fold_in_place(text)
    spans = [m.span() for p in patterns for m in p.finditer(folded)]
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


def address_text(text: str) -> str:
    """Spanish numbers that cannot be house numbers blanked: "3 dias", "a las 5", "apto 4"."""
    return _blank(text, [*_patterns("not_address_numbers"), _unit_re()])


def unit_number(text: str) -> str | None:
    """An apartment or unit number said in Spanish ('apto 3B', 'depto 2') -> '3B'."""
    match = _unit_re().search(wordlists.fold_in_place(text))
    return text[match.start(2) : match.end(2)].upper() if match else None


@cache
def _unit_re() -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in _places().get("unit_words") or ())
    return re.compile(rf"\b({words})\.?\s*(?:#|no\.?|numero)?\s*([a-z]?\d+[a-z]?)\b")
