"""The one public view of a case: what Open311, status texts to others and public pages may show.

Every public surface reads a case through `public_request`, never the stored row, so the
privacy rules live here and are tested once: no contact details, no resident free text unless
the service allows it, block-level places for sensitive services, only the public note of
staff, only approved photos (cases/photos.py). Text here was redacted once, before it was stored
(cases/redact.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from cases.enums import CaseStatus, open311_status
from cases.models import Case, CaseEvent

if TYPE_CHECKING:
    from cases.public_photos import PublicPhoto

HOUSE_NUMBER_RE = re.compile(r"^\s*(\d{1,6})[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?\s+(.+)$")
UNIT_RE = re.compile(r",?\s*(?:apt|apartment|unit|suite|ste|fl|floor|#)\.?\s*#?\s*\w+\s*$", re.I)
COORDINATE_PLACES = 3  # about 110 m: a block, not a building


@dataclass(frozen=True)
class PublicPolicy:
    """How much of one service's cases the public may see (from the service catalogue)."""

    sensitive: bool = True  # block-level place only (unknown services are treated as sensitive)
    description: str = "none"  # none | redacted: publish residents' (stored, redacted) words
    # attribute code -> (label, value key -> public name): answers chosen from a list are safe
    choices: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)


def block_address(address: str | None) -> str | None:
    """'123 Elm Street, Apt 4' -> '100 block of Elm Street'; crossings stay as they are."""
    if not address:
        return address
    address = UNIT_RE.sub("", address.strip())
    match = HOUSE_NUMBER_RE.match(address)
    if not match:
        return address
    number, street = int(match.group(1)), match.group(2)
    return f"{number // 100 * 100} block of {street}"


def public_summary(case: Case, policy: PublicPolicy) -> str:
    """The list answers of a case in words ('Noise type: Loud music'): never free text."""
    parts = []
    for code, value in (case.attributes or {}).items():
        label, names = policy.choices.get(code, ("", {}))
        if str(value) in names:
            parts.append(f"{label}: {names[str(value)]}")
    return "; ".join(parts)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def public_place(case: Case, policy: PublicPolicy) -> tuple[str | None, float | None, float | None]:
    """The address and coordinates the public may see."""
    if not policy.sensitive:
        return case.address, case.lat, case.long

    def rounded(x: float | None) -> float | None:
        return None if x is None else round(x, COORDINATE_PLACES)

    return block_address(case.address), rounded(case.lat), rounded(case.long)


def public_request(
    case: Case, policy: PublicPolicy, photos: Sequence[PublicPhoto] = ()
) -> dict[str, Any]:
    """A case as an Open311 service request, with only what the public may see.

    `photos` are the case's approved photos (cases.public_photos.approved_photos): the first
    is the request's media_url. Photos residents texted are published only that way, after
    review and from our own store; Twilio's URLs never leave it.
    """
    address, lat, long = public_place(case, policy)
    summary = public_summary(case, policy)
    if policy.description == "redacted" and case.description:
        description = case.description
    else:
        description = summary
    return {
        "service_request_id": case.service_request_id,
        "status": open311_status(case.status),
        "status_notes": case.status_notes or None,
        "status_description": status_description(case),
        "service_name": case.service_name,
        "service_code": case.service_code,
        "description": description,
        "agency_responsible": case.agency_responsible,
        "service_notice": case.service_notice,
        "requested_datetime": _iso(case.requested_datetime),
        "updated_datetime": _iso(case.updated_datetime),
        "expected_datetime": _iso(case.expected_datetime),
        "address": address,
        "address_id": None if policy.sensitive else case.address_id,
        "zipcode": None,
        "lat": lat,
        "long": long,
        # an approved photo from our store, else a link an API client chose to publish;
        # the Twilio URL of a texted photo is never public
        "media_url": photos[0].url
        if photos
        else (case.media_url if case.source == "open311" else None),
    }


# The public words of each status and outcome, in English (Open311, staff); residents' pages
# and texts use the message catalogue of their language instead.
STATUS_WORDS = {
    CaseStatus.RECEIVED: "Received",
    CaseStatus.ASSIGNED: "Assigned",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.REOPENED: "Reopened",
    CaseStatus.CLOSED: "Closed",
}
RESOLUTION_WORDS = {
    "fixed": "fixed",
    "duplicate": "duplicate of {of}",
    "referred": "referred to {to}, {phone}",
    "no_action_needed": "no action needed",
    "unable_to_act": "the city could not act: {reason}",
}


def outcome(resolution: str | None, detail: Mapping[str, Any] | None) -> str:
    """A resolution code and its detail in English words ('referred to Riverton Gas, ...')."""
    if not resolution:
        return ""
    template = RESOLUTION_WORDS.get(resolution, resolution)
    values = {"of": "", "to": "", "phone": "", "reason": "", **(detail or {})}
    return template.format(**values)


def status_description(case: Case) -> str:
    """The status in words beyond Open311's open/closed: 'Assigned to Crew 4', 'Closed: fixed'."""
    words = STATUS_WORDS.get(case.status, case.status.replace("_", " ").capitalize())  # type: ignore[call-overload]
    if case.status == CaseStatus.ASSIGNED and case.assigned_to:
        return f"{words} to {case.assigned_to}"
    if case.status == CaseStatus.CLOSED and case.resolution:
        return f"{words}: {outcome(case.resolution, case.resolution_detail)}"
    return words


def timeline(case: Case, events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The public history of a case: filing and each status change, with its public note.

    Internal notes, who did it and texts sent are left out.
    """
    entries: list[dict[str, Any]] = []
    for event in events:
        if event.kind == "filed":
            entries.append(
                {"datetime": _iso(event.at), "status": CaseStatus.RECEIVED, "type": "received"}
            )
        elif event.kind == "status" and event.to_status:
            entry: dict[str, Any] = {
                "datetime": _iso(event.at),
                "status": event.to_status,
                "type": event.to_status if event.to_status != event.from_status else "note",
            }
            if event.assigned_to:
                entry["assigned_to"] = event.assigned_to
            if event.to_status == CaseStatus.CLOSED and event.resolution:
                entry["resolution"] = event.resolution
                detail = dict(case.resolution_detail or {}) if event.resolution else {}
                entry["outcome"] = outcome(event.resolution, detail)
            if event.public_note:
                entry["note"] = event.public_note
            entries.append(entry)
    return entries


def open311_notes(case: Case, events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The `notes` extension (GET requests/{id}?extensions=true): the public timeline."""
    notes = []
    for entry in timeline(case, events):
        summary = STATUS_WORDS.get(entry["status"], entry["status"])
        if entry.get("assigned_to"):
            summary = f"{summary} to {entry['assigned_to']}"
        if entry.get("outcome"):
            summary = f"{summary}: {entry['outcome']}"
        notes.append(
            {
                "datetime": entry["datetime"],
                "type": entry["type"],
                "summary": summary,
                "description": entry.get("note"),
            }
        )
    return notes


# Open data (open311/open_data.py): bulk and permanent, so every service at block level and no
# resident words at all, whatever the service's Open311 policy allows.
OPEN_DATA_POLICY = PublicPolicy(sensitive=True, description="none")
CHANNEL_TYPES = {"voice": "PHONE", "sms": "SMS", "open311": "ONLINE"}
# staff's free text (an unable_to_act reason) and a referral's phone number stay out
OPEN_DATA_RESOLUTIONS = {
    "fixed": "Fixed",
    "duplicate": "Duplicate of {of}",
    "referred": "Referred to {to}",
    "no_action_needed": "No action needed",
    "unable_to_act": "The city could not act",
}
INTERSECTION_RE = re.compile(r"^\s*(.+?)\s+(?:and|&|at)\s+(.+?)\s*$", re.I)


def _open_data_outcome(case: Case) -> str | None:
    if not case.resolution:
        return None
    detail = {"of": "", "to": "", **(case.resolution_detail or {})}
    template = OPEN_DATA_RESOLUTIONS.get(case.resolution, "Closed")
    return template.format(of=str(detail["of"])[:32], to=str(detail["to"])[:128])


def open_data_record(case: Case, policy: PublicPolicy, city: str) -> dict[str, Any]:
    """A case as one row of the open data set (docs/open-data.md, column by column).

    `policy` only gives the names of list answers (Descriptor); the place is always block level
    and no description, note, name, phone or e-mail is ever in it.
    """
    choices = PublicPolicy(sensitive=True, description="none", choices=policy.choices)
    address, lat, long = public_place(case, OPEN_DATA_POLICY)
    street = cross1 = cross2 = None
    address_type = "LATLONG" if lat is not None else None
    if address:
        crossing = None if " block of " in address else INTERSECTION_RE.match(address)
        if crossing:
            cross1, cross2, address_type = crossing.group(1), crossing.group(2), "INTERSECTION"
        else:
            street, address_type = address.split(" block of ", 1)[-1], "BLOCKFACE"
    closed = case.status == CaseStatus.CLOSED
    return {
        "unique_key": case.service_request_id,
        "created_date": _iso(case.requested_datetime),
        "closed_date": _iso(case.closed_datetime) if closed else None,
        "due_date": _iso(case.due_datetime or case.expected_datetime),
        "agency": case.service_code.split("-", 1)[0] if "-" in case.service_code else None,
        "agency_name": case.agency_responsible,
        "complaint_type": case.service_name,
        "descriptor": public_summary(case, choices) or None,
        "location_type": None,
        "incident_zip": None,
        "incident_address": address if address_type == "BLOCKFACE" else None,
        "street_name": street,
        "cross_street_1": cross1,
        "cross_street_2": cross2,
        "address_type": address_type,
        "city": city,
        "status": STATUS_WORDS.get(case.status, case.status),  # type: ignore[call-overload]
        "resolution_description": _open_data_outcome(case) if closed else None,
        "resolution_action_updated_date": _iso(case.updated_datetime),
        "open_data_channel_type": CHANNEL_TYPES.get(case.source, "OTHER"),
        "latitude": lat,
        "longitude": long,
    }


def case_link(site: str, case: Case) -> str:
    """The public page of a case: {site}/c/311-000123-k7Q2xR (the token makes it unguessable)."""
    return f"{site.rstrip('/')}/c/{case.service_request_id}-{case.public_token}"


def public_photos(db_session: Session, case: Case) -> list[Any]:
    """The approved photos of a case the public may see (before, then after).

    Each has `kind` (before | after), `url`, `thumbnail_url`, `width` and `height`; the public
    case page (cases/case_page.py, public/templates/public/case.html) shows them.
    """
    from cases.public_photos import approved_photos  # photos build on this module's view

    return list(approved_photos(db_session, case))
