"""Loading and checking the message catalogues, and filling a message in for a turn.

YAML rather than gettext catalogues: a message here has channel variants (what a text says and
what a caller hears differ) and is looked up by a stable name, while gettext keys messages by
their English text and has no notion of variants. Babel still formats dates per locale.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from babel.dates import format_date

from datafiles import load_yaml
from wording.uses import USES

CHANNELS = ("sms", "voice")
REFERENCE = "en"  # every other locale is checked against it
# Phrase lists every locale has: asking for the language by name; asking to go on by text.
PHRASES = ("asked_by", "text_me_by")
INCLUDE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class CatalogueError(ValueError):
    """A catalogue that would make the bot fail a resident: refused when the app loads."""


def placeholders(text: str) -> frozenset[str]:
    """The {names} a message expects."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


@dataclass(frozen=True)
class Catalogue:
    """One locale's messages, each resolved per channel (includes expanded)."""

    locale: str
    name: str
    voice_language: str
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see PHRASES
    texts: dict[tuple[str, str], str] = field(default_factory=dict)

    def text(self, key: str, channel: str) -> str:
        """A message on a channel (KeyError if missing: the load check makes that impossible)."""
        return self.texts[(key, channel)]

    def keys(self) -> set[str]:
        """The message names this locale defines."""
        return {key for key, _ in self.texts}


def _variants(key: str, raw: Any, where: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {channel: raw for channel in CHANNELS}
    if not isinstance(raw, dict) or not raw or set(raw) - set(CHANNELS):
        raise CatalogueError(f"{where}: {key} must be a text or a mapping of sms/voice texts")
    return {str(channel): str(text) for channel, text in raw.items()}


def _parse(path: Path) -> Catalogue:
    try:
        raw = load_yaml(path)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), dict):
        raise CatalogueError(f"{path.name}: needs a `messages:` mapping")
    locale = str(raw.get("locale") or "")
    if locale != path.stem:
        raise CatalogueError(f"{path.name}: locale {locale!r} does not match the file name")
    raw_texts = {
        (str(key), channel): text
        for key, value in raw["messages"].items()
        for channel, text in _variants(str(key), value, path.name).items()
    }

    def expand(key: str, channel: str, seen: tuple[str, ...]) -> str:
        if key in seen:
            raise CatalogueError(f"{path.name}: {key} includes itself ({' > '.join(seen)})")
        text = raw_texts.get((key, channel))
        if text is None:
            raise CatalogueError(f"{path.name}: {seen[-1]} includes {key}, which has no {channel}")
        return INCLUDE.sub(lambda m: expand(m.group(1), channel, (*seen, key)), text)

    texts = {(key, ch): expand(key, ch, ()) for key, ch in raw_texts}
    return Catalogue(
        locale=locale,
        name=str(raw.get("name") or locale),
        voice_language=str(raw.get("voice_language") or locale),
        phrases={
            name: tuple(str(p) for p in (raw.get("phrases") or {}).get(name) or ())
            for name in PHRASES
        },
        texts=texts,
    )


def check(catalogues: dict[str, Catalogue], uses: dict[str, frozenset[str]] = USES) -> None:
    """Every message the code uses, in every locale and channel it is used on, same placeholders."""
    if REFERENCE not in catalogues:
        raise CatalogueError(f"the reference catalogue {REFERENCE}.yml is missing")
    reference = catalogues[REFERENCE]
    problems: list[str] = []
    for locale, catalogue in sorted(catalogues.items()):
        for key, channels in sorted(uses.items()):
            for channel in sorted(channels):
                text = catalogue.texts.get((key, channel))
                if text is None:
                    problems.append(f"{locale}.yml: {key} has no {channel} text")
                    continue
                wanted = placeholders(reference.texts.get((key, channel), ""))
                if locale != REFERENCE and placeholders(text) != wanted:
                    got = sorted(placeholders(text))
                    problems.append(
                        f"{locale}.yml: {key} ({channel}) uses {got}, {REFERENCE} uses "
                        f"{sorted(wanted)}"
                    )
        for name in PHRASES:
            if not catalogue.phrases.get(name):
                problems.append(f"{locale}.yml: phrases.{name} is empty")
        for key in sorted(catalogue.keys() - set(uses)):
            problems.append(f"{locale}.yml: {key} is not used by the code (a typo?)")
    if problems:
        raise CatalogueError("message catalogues are incomplete:\n  " + "\n  ".join(problems))


def load_catalogues(folder: Path) -> dict[str, Catalogue]:
    """Every data/messages/<locale>.yml, checked; raises CatalogueError listing every problem."""
    catalogues = {path.stem: _parse(path) for path in sorted(folder.glob("*.yml"))}
    check(catalogues)
    return catalogues


@dataclass(frozen=True)
class Wording:
    """The catalogues, with the city's name and number filled into every message."""

    city: str
    phone: str
    catalogues: dict[str, Catalogue]
    # service code -> name per language (from data/services.yml), for texts the store sends
    service_names: dict[str, dict[str, str]] = field(default_factory=dict)
    site: str = ""  # the public address (CIVICLINE_PUBLIC_URL), for links to case pages

    @property
    def languages(self) -> tuple[str, ...]:
        """The locales residents can use, the reference first."""
        return (REFERENCE, *sorted(set(self.catalogues) - {REFERENCE}))

    def language(self, language: str | None) -> str:
        """A supported locale (anything else gets the reference)."""
        return language if language in self.catalogues else REFERENCE

    def text(self, name: str, channel: str, language: str = REFERENCE, **values: Any) -> str:
        """A message for a channel and language, with its placeholders filled."""
        catalogue = self.catalogues[self.language(language)]
        return catalogue.text(name, channel).format(city=self.city, phone=self.phone, **values)

    def date(self, when: date | datetime, language: str = REFERENCE) -> str:
        """A date the way the locale writes it ("Nov 29, 2026", "29 nov 2026")."""
        return format_date(when, format="medium", locale=self.language(language))

    def service_name(self, service_code: str, language: str) -> str | None:
        """A service's name in a language, if the catalogue has it."""
        return self.service_names.get(self.language(language), {}).get(service_code)

    def phrases(self, name: str, language: str) -> tuple[str, ...]:
        """A phrase list of a locale (PHRASES)."""
        return self.catalogues[self.language(language)].phrases[name]

    def voice_language(self, language: str) -> str:
        """The <Gather>/<Say> language code of a locale (en-US, es-US)."""
        return self.catalogues[self.language(language)].voice_language
