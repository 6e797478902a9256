"""Open311 documents as JSON or as the spec's schemaless XML (same fields either way)."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

# root element and item element of each document, as in the GeoReport v2 examples
ROOTS = {
    "services": ("services", "service"),
    "definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
    "discovery": ("discovery", None),
}
LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (C0 controls but tab/CR/LF, surrogates, U+FFFE/F).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else NOT_XML.sub("", str(value))


def _fill(parent: Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        node = SubElement(parent, key)
        if isinstance(value, list):
            for item in value:
                child = SubElement(node, LIST_ITEMS.get(key, "item"))
                if isinstance(item, dict):
                    _fill(child, item)
                else:  # a list of words: <formats><format>text/xml</format></formats>
                    child.text = _text(item)
        else:
            node.text = _text(value)


def to_xml(kind: str, data: Any) -> str:
    """A document as XML: a root with one element per item, one child per field."""
    root_name, item_name = ROOTS[kind]
    root = Element(root_name)
    if item_name is None:
        _fill(root, data)
    else:
        for item in data:
            _fill(SubElement(root, item_name), item)
    return '<?xml version="1.0" encoding="utf-8"?>' + tostring(root, encoding="unicode")


def to_json(data: Any) -> str:
    """A document as JSON."""
    return json.dumps(data, ensure_ascii=False)
