"""The published Open311 GeoReport v2 JSON schemas (../shared/open311), ready to validate with."""

from __future__ import annotations

import json
from functools import cache

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from settings import ROOT

SCHEMAS = ROOT.parent / "shared" / "open311" / "schema" / "georeport-v2"


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one schema file, with its siblings registered for the relative $refs."""
    if not SCHEMAS.exists():
        pytest.skip("../shared/open311 is not beside this checkout")
    registry = Registry().with_resources(
        (n, Resource.from_contents(_load(n), default_specification=DRAFT202012))
        for n in ("service.json", "request.json")
    )
    return Draft202012Validator(_load(name), registry=registry, format_checker=FormatChecker())


def post_response_validator() -> Draft202012Validator:
    """swagger.json's RequestResponse (the only published shape of the POST answer), as a list."""
    if not SCHEMAS.exists():
        pytest.skip("../shared/open311 is not beside this checkout")
    item = _load("swagger.json")["definitions"]["RequestResponse"]
    # swagger's non-standard format "uid" is ignored by jsonschema (unknown formats pass).
    return Draft202012Validator(
        {"type": "array", "items": item, "minItems": 1}, format_checker=FormatChecker()
    )


def validate(name: str, document: object) -> None:
    """Raise if the document does not match the schema.

    Where the schemas are weaker than the spec (no "type": "object", minItems inside items), the
    tests check the spec's rule themselves: every item is an object with the required fields.
    """
    validator(name).validate(document)
