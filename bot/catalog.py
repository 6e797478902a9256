"""The service catalogue (data/services.yml): which intent files which service, asking what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot import wordlists
from cases.deadlines import CityCalendar
from cases.public import PublicPolicy
from datafiles import load_yaml

DATATYPES = {"string", "number", "text", "singlevaluelist"}
# Intents that steer the conversation (the catalogue and knowledge base name the others).
CONVERSATION_INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank_you",
    "check_status",
    "request_human",
    "emergency",
    "help",
    "out_of_scope",
    "cancel",
)


@dataclass(frozen=True)
class Value:
    """One allowed answer of a list attribute."""

    key: str
    name: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An Open311 attribute: a follow-up question of a service."""

    code: str
    datatype: str
    required: bool
    description: str
    order: int
    datatype_description: str | None = None
    values: tuple[Value, ...] = ()
    label: str = ""  # the read-back's name for the answer ("Size: Large")

    def find_value(self, text: str) -> Value | None:
        """The list value a free-text answer names: its number, key, name or a synonym."""
        clean = text.strip().lower().strip(".!?")
        if clean.isdigit() and 1 <= int(clean) <= len(self.values):
            return self.values[int(clean) - 1]
        return mention(self.values, clean)

    def question(self) -> str:
        """The question with its numbered choices, for SMS."""
        if not self.values:
            return self.description
        choices = " ".join(f"{i}) {v.name}" for i, v in enumerate(self.values, 1))
        return f"{self.description} {choices}"


def _words(text: str) -> str:
    """Lower case with accents off ("calefacción" matches "calefaccion"), padded for whole words."""
    return " " + re.sub(r"[^a-z0-9']+", " ", wordlists.fold(text)) + " "


def mention(values: tuple[Value, ...], text: str) -> Value | None:
    """The value whose key, name or a synonym appears as whole words in the text (longest wins)."""
    hay = _words(text)
    best: tuple[int, Value] | None = None
    for value in values:
        for phrase in (value.key.replace("_", " "), value.name, *value.synonyms):
            needle = _words(phrase)
            if needle.strip() and needle in hay and (best is None or len(needle) > best[0]):
                best = (len(needle), value)
    return best[1] if best else None


@dataclass(frozen=True)
class Service:
    """A service residents can request, mapped from one NLU intent."""

    intent: str
    service_code: str
    service_name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    agency: str
    expected_days: int  # business days to resolve (cases/deadlines.py)
    location_kind: str
    location_prompt: str
    needs_description: bool
    description_prompt: str | None
    next_steps: str
    attributes: tuple[Attribute, ...] = field(default=())
    sensitive: bool = True  # a home or a neighbour: published at block level only
    public_description: str = "none"  # none | redacted (residents' words, as stored: redacted)
    acknowledge_hours: int = 0  # hours to acknowledge a case (0: no target)

    def public_policy(self) -> PublicPolicy:
        """What the public may see of this service's cases (cases/public.py applies it)."""
        return PublicPolicy(
            sensitive=self.sensitive,
            description=self.public_description,
            choices={
                a.code: (a.code.replace("_", " ").capitalize(), {v.key: v.name for v in a.values})
                for a in self.attributes
                if a.values
            },
        )

    def attribute(self, code: str) -> Attribute:
        """The attribute with this code."""
        return next(a for a in self.attributes if a.code == code)


class CatalogError(ValueError):
    """The catalogue file is malformed."""


def _translated_attribute(attr: Attribute, raw: dict[str, Any], where: str) -> Attribute:
    """An attribute in another language: its question, label and choice names (keys stay)."""
    names = raw.get("values") or {}
    values = []
    for value in attr.values:
        said = names.get(value.key)
        if not said or not said.get("name"):
            raise CatalogError(f"{where}: value {value.key} has no name")
        synonyms = tuple(str(x).lower() for x in said.get("synonyms") or ())
        # English names still count: residents mix languages ("el trash", "la troca")
        values.append(Value(value.key, str(said["name"]), (*synonyms, value.name.lower())))
    if "description" not in raw:
        raise CatalogError(f"{where}: no description")
    return replace(
        attr,
        description=str(raw["description"]),
        label=str(raw.get("label") or attr.label),
        datatype_description=raw.get("datatype_description", attr.datatype_description),
        values=tuple(values),
    )


def translated(service: Service, raw: dict[str, Any] | None, language: str) -> Service:
    """A service in another language from its `<language>:` block, checked for completeness."""
    where = f"service {service.intent} ({language})"
    if not raw:
        raise CatalogError(f"{where}: no translation")
    missing = [
        name
        for name in ("service_name", "description", "location_prompt", "next_steps")
        if not raw.get(name)
    ]
    if service.needs_description and not raw.get("description_prompt"):
        missing.append("description_prompt")
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    attributes = raw.get("attributes") or {}
    return replace(
        service,
        service_name=str(raw["service_name"]),
        description=str(raw["description"]),
        keywords=tuple(str(k) for k in raw.get("keywords") or ()),
        location_prompt=str(raw["location_prompt"]),
        description_prompt=raw.get("description_prompt"),
        next_steps=str(raw["next_steps"]),
        attributes=tuple(
            _translated_attribute(a, attributes.get(a.code) or {}, f"{where} {a.code}")
            for a in service.attributes
        ),
    )


def _attribute(raw: dict[str, Any], order: int, where: str) -> Attribute:
    datatype = raw.get("datatype")
    if datatype not in DATATYPES:
        raise CatalogError(
            f"{where}: datatype must be one of {sorted(DATATYPES)}, not {datatype!r}"
        )
    values = tuple(
        Value(str(v["key"]), str(v["name"]), tuple(str(s).lower() for s in v.get("synonyms") or ()))
        for v in raw.get("values") or ()
    )
    if datatype == "singlevaluelist" and not values:
        raise CatalogError(f"{where}: a singlevaluelist needs values")
    return Attribute(
        code=str(raw["code"]),
        datatype=datatype,
        required=bool(raw.get("required", False)),
        description=str(raw["description"]),
        order=order,
        datatype_description=raw.get("datatype_description"),
        values=values,
        label=str(raw.get("label") or str(raw["code"]).replace("_", " ").capitalize()),
    )


def _service(raw: dict[str, Any]) -> Service:
    where = f"service {raw.get('intent', '?')}"
    try:
        service = Service(
            intent=str(raw["intent"]),
            service_code=str(raw["service_code"]),
            service_name=str(raw["service_name"]),
            description=str(raw["description"]),
            group=str(raw.get("group") or ""),
            keywords=tuple(str(k) for k in raw.get("keywords") or ()),
            agency=str(raw["agency"]),
            expected_days=int(raw.get("expected_days") or 0),
            location_kind=str(raw.get("location_kind", "street")),
            location_prompt=str(raw["location_prompt"]),
            needs_description=bool(raw.get("needs_description", False)),
            description_prompt=raw.get("description_prompt"),
            next_steps=str(raw["next_steps"]),
            attributes=tuple(
                _attribute(a, i, f"{where} attribute {i}")
                for i, a in enumerate(raw.get("attributes") or (), 1)
            ),
            sensitive=bool(raw.get("sensitive", raw.get("location_kind") == "building")),
            public_description=str(raw.get("public_description", "none")),
            acknowledge_hours=int(raw.get("acknowledge_hours") or 0),
        )
    except KeyError as exc:
        raise CatalogError(f"{where}: missing field {exc.args[0]!r}") from exc
    if service.location_kind not in {"street", "building"}:
        raise CatalogError(f"{where}: location_kind must be 'street' or 'building'")
    if service.public_description not in {"none", "redacted"}:
        raise CatalogError(f"{where}: public_description must be 'none' or 'redacted'")
    if service.needs_description and not service.description_prompt:
        raise CatalogError(f"{where}: needs_description without description_prompt")
    return service


class Catalog:
    """All services, by intent and by service code (in English; `localized` for others)."""

    def __init__(self, services: list[Service], translations: dict[str, Catalog] | None = None):
        self.services = services
        self.translations = translations or {}
        self.by_intent = {s.intent: s for s in services}
        self.by_code = {s.service_code: s for s in services}
        self.policies = {s.service_code: s.public_policy() for s in services}
        self.calendar: CityCalendar | None = None  # set by the runtime (city zone, holidays)
        if len(self.by_code) != len(services) or len(self.by_intent) != len(services):
            raise CatalogError("service codes and intents must be unique")

    def policy(self, service_code: str) -> PublicPolicy:
        """The public policy of a service (an unknown code gets the strictest one)."""
        return self.policies.get(service_code, PublicPolicy())

    def localized(self, language: str) -> Catalog:
        """The same services in a language (English for one without translations)."""
        return self.translations.get(language, self)

    @classmethod
    def load(cls, path: Path, languages: tuple[str, ...] = ()) -> Catalog:
        """Read and check data/services.yml: every service translated into every language."""
        raw = load_yaml(path)
        services = [_service(s) for s in raw["services"]]
        translations = {
            language: cls(
                [
                    translated(service, item.get(language), language)
                    for service, item in zip(services, raw["services"], strict=True)
                ]
            )
            for language in languages
            if language != "en"
        }
        return cls(services, translations)
