"""Street addresses and intersections in free text, checked against the city's street list."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import usaddress
from rapidfuzz import fuzz

from bot import places_es
from bot.street_words import (
    COMMON_WORDS,
    DIRECTIONS,
    IDIOM_AFTER,
    IDIOM_BEFORE,
    LOCATIVES,
    NOT_ADDRESS_NUMBERS,
    NOT_NAMES,
    NUMBER_RE,
    ORDINALS,
    SUFFIX_OF,
    SUFFIXES,
    UNIT_RE,
)


def address_text(text: str, *, language: str = "en") -> str:
    """The text with numbers that cannot be house numbers blanked out."""
    if language == "es":
        text = places_es.address_text(text)
    return NOT_ADDRESS_NUMBERS.sub(" ", text)


def unit_number(text: str, *, language: str = "en") -> str | None:
    """An apartment or unit number written in the text ('apt 4B' -> '4B')."""
    if language == "es" and (unit := places_es.unit_number(text)):
        return unit
    match = UNIT_RE.search(text)
    return match.group(2).upper() if match else None


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def tokens(text: str) -> list[str]:
    """Lower-case word tokens with suffixes spelled out and ordinals as '3rd'."""
    raw = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and ").replace("'", ""))
    out: list[str] = []
    for i, tok in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        after = raw[i + 2] if i + 2 < len(raw) else ""
        prev = raw[i - 1] if i else ""
        if tok in ORDINALS:
            tok = ORDINALS[tok]
        elif (
            tok.isdigit()
            and nxt in SUFFIX_OF
            and after not in SUFFIX_OF  # "at 211 Court St": Court is the name here
            and (not prev or prev in LOCATIVES)
        ):
            tok = _ordinal(int(tok))  # "on 3 ave" is 3rd Avenue; "120 3 ave" keeps its number
        elif tok in SUFFIX_OF and out:
            tok = SUFFIX_OF[tok]
        elif tok in DIRECTIONS and prev.isdigit() and nxt and nxt not in SUFFIX_OF:
            tok = tok[0]  # "120 north elm st": a direction, not North Street
        out.append(tok)
    return out


@dataclass(frozen=True)
class Street:
    """A street of the city."""

    name: str
    core: tuple[str, ...]
    suffix: str | None
    lat: float | None
    long: float | None


@dataclass(frozen=True)
class Location:
    """A place on the city's streets: a house number, an intersection, or a street alone."""

    street: Street
    number: str | None = None
    cross: Street | None = None

    @property
    def address(self) -> str:
        """The place as a readable address."""
        if self.number:
            return f"{self.number} {self.street.name}"
        if self.cross:
            return f"{self.street.name} and {self.cross.name}"
        return self.street.name

    @property
    def precise(self) -> bool:
        """Whether a crew could find it: a house number or a cross street."""
        return bool(self.number or self.cross)

    @property
    def lat(self) -> float | None:
        """Latitude (street centroid, or midpoint of an intersection)."""
        return self._mid("lat")

    @property
    def long(self) -> float | None:
        """Longitude (street centroid, or midpoint of an intersection)."""
        return self._mid("long")

    def _mid(self, attr: str) -> float | None:
        values = [getattr(s, attr) for s in (self.street, self.cross) if s is not None]
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 6) if values else None


@dataclass(frozen=True)
class Found:
    """What a message says about a place: a location, a street we don't know, or nothing."""

    location: Location | None = None
    unknown_street: str | None = None


@dataclass
class _Hit:
    street: Street
    start: int
    end: int
    score: float


class StreetDirectory:
    """The city's streets, with fuzzy lookup of residents' spellings."""

    def __init__(self, streets: list[Street]):
        self.streets = sorted(streets, key=lambda s: -len(" ".join(s.core)))
        # _score only matches a street whose name starts with the word's letter: look up those
        self._by_initial: dict[str, list[Street]] = {}
        for street in self.streets:
            self._by_initial.setdefault(" ".join(street.core)[:1], []).append(street)
        cores = "|".join(re.escape(" ".join(s.core)).replace(r"\ ", r"\s+") for s in self.streets)
        aliases = "|".join(sorted(SUFFIX_OF, key=len, reverse=True))
        self._named = re.compile(rf"\b(\d+\s+)?({cores})\s+({aliases})\b\.?", re.IGNORECASE)
        self.spanish = places_es.SpanishPlaces(self.streets, SUFFIX_OF)

    @classmethod
    def load(cls, path: Path) -> StreetDirectory:
        """Read data/streets.csv (columns name, and optionally lat, long)."""
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return cls([street_from_name(r["name"], r.get("lat"), r.get("long")) for r in rows])

    def without_streets(self, text: str, *, language: str = "en") -> str:
        """The text with street names blanked ("Grove Street" must not answer "street?")."""
        if language == "es":
            text = self.spanish.without_streets(text)
        return self._named.sub(" ", text)

    def match_name(self, text: str) -> Street | None:
        """The street a bare street name ('elm st', 'Mapel Ave') refers to."""
        toks = tokens(text)
        hits = self._scan(toks, strict=False)
        whole = [h for h in hits if h.start == 0 and h.end >= len(toks) - 1]
        return max(whole, key=lambda h: h.score).street if whole else None

    def find(self, text: str, *, strict: bool = True, language: str = "en") -> Found:
        """The place a message mentions. strict: only street names that read as a place."""
        if language == "es":
            english = self.spanish.to_english(text)
            found = self.find(english, strict=strict)
            if found.unknown_street and found.unknown_street == english.strip():
                return Found(unknown_street=text.strip())  # the resident's words, not ours
            return found
        toks = tokens(text)
        if not strict:
            found = self._with_usaddress(text)
            if found is not None:
                return found
        hits = self._scan(toks, strict=strict)
        if hits:
            hits.sort(key=lambda h: h.start)
            first = hits[0]
            number = _house_number(toks, first.start)
            cross = next((h.street for h in hits[1:] if h.street != first.street), None)
            if number:
                cross = None
            return Found(Location(first.street, number, cross))
        unknown = _unknown_street(toks)
        if unknown is None and not strict and toks:
            unknown = text.strip()
        return Found(unknown_street=unknown)

    def _scan(self, toks: list[str], *, strict: bool) -> list[_Hit]:
        hits: list[_Hit] = []
        i = 0
        while i < len(toks):
            candidates = self._by_initial.get(toks[i][:1], [])
            best = max(
                (h for street in candidates if (h := self._score(toks, i, street, strict))),
                key=lambda h: (h.end - h.start, h.score),
                default=None,
            )
            if best is None:
                i += 1
                continue
            hits.append(best)
            i = best.end
        return hits

    @staticmethod
    def _score(toks: list[str], i: int, street: Street, strict: bool) -> _Hit | None:
        n = len(street.core)
        window = " ".join(toks[i : i + n])
        core = " ".join(street.core)
        if window == core:
            score = 100.0
        elif (
            len(core) >= 5
            and window[:1] == core[:1]
            and len(toks) >= i + n
            and not any(t in LOCATIVES for t in toks[i : i + n])
        ):
            score = fuzz.ratio(window, core)
        else:
            return None
        if score < 80:
            return None
        after = toks[i + n] if i + n < len(toks) else ""
        before = toks[i - 1] if i else ""
        has_suffix = after in SUFFIXES
        if has_suffix:
            score += 3 if after == street.suffix else -5
        in_context = (
            has_suffix
            or before in LOCATIVES
            or before in DIRECTIONS
            or after == "and"
            or NUMBER_RE.match(before)
        )
        if core in COMMON_WORDS and not has_suffix:
            # "in front of me", "at school", "out back": an ordinary word, unless it reads as
            # a street: a house number before it, "and" beside it, or the whole answer.
            in_context = bool(NUMBER_RE.match(before)) or "and" in (before, after)
            if len(toks) <= n + 1 and not strict and score == 100:
                in_context = True
            if before in IDIOM_BEFORE.get(core, ()) or after in IDIOM_AFTER.get(core, ()):
                return None
        if not in_context and (strict or score < 100):
            return None
        return _Hit(street, i, i + n + (1 if has_suffix else 0), score)

    def _with_usaddress(self, text: str) -> Found | None:
        """Parse a reply that is mostly an address with usaddress, then check its streets."""
        try:
            parts, kind = usaddress.tag(text)
        except usaddress.RepeatedLabelError:
            return None
        if kind not in {"Street Address", "Intersection"}:
            return None
        first = self.match_name(_street_text(parts, ""))
        if first is None:
            return None
        if kind == "Intersection":
            second = self.match_name(_street_text(parts, "Second"))
            return Found(Location(first, cross=second)) if second else None
        number = parts.get("AddressNumber")
        return Found(Location(first, number=number if number and number.isdigit() else None))


def _house_number(toks: list[str], start: int) -> str | None:
    """The house number just before a street name, skipping a direction ('120 N Elm St')."""
    j = start - 1
    if j >= 0 and toks[j] in DIRECTIONS:
        j -= 1
    return toks[j] if j >= 0 and NUMBER_RE.match(toks[j]) else None


def _street_text(parts: dict[str, str], prefix: str) -> str:
    keys = ("StreetNamePreDirectional", "StreetName", "StreetNamePostType")
    return " ".join(parts.get(f"{prefix}{k}", "") for k in keys).strip()


def _unknown_street(toks: list[str]) -> str | None:
    """A 'Name Street' phrase in a place-like context whose name we do not know."""
    for i, tok in enumerate(toks):
        if tok not in SUFFIXES or i == 0:
            continue
        start = i
        while start > 0 and i - start < 3 and _could_be_name(toks[start - 1]):
            start -= 1
        before = toks[start - 1] if start else ""
        if start < i and (not before or before in LOCATIVES or NUMBER_RE.match(before)):
            return " ".join(toks[start : i + 1]).title()
    return None


def _could_be_name(tok: str) -> bool:
    return tok not in LOCATIVES and tok not in NOT_NAMES and not NUMBER_RE.match(tok)


def street_from_name(
    name: str, lat: str | float | None = None, long: str | float | None = None
) -> Street:
    """A Street from its full name, e.g. 'Elm Street'."""
    toks = tokens(name)
    suffix = toks[-1] if len(toks) > 1 and toks[-1] in SUFFIXES else None
    core = tuple(toks[:-1] if suffix else toks)
    return Street(
        name.strip(), core, suffix, float(lat) if lat else None, float(long) if long else None
    )
