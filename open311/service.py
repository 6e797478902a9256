"""Open311 GeoReport v2 rules with no web framework: validate input, shape output."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.catalog import Attribute, Catalog, Service
from bot.locations import StreetDirectory
from cases.admin_models import ApiKey
from cases.enums import STATUSES, open311_status
from cases.models import Case, CaseEvent, utcnow
from cases.public import open311_notes, public_request
from cases.public_photos import PublicPhoto, approved_photos, approved_photos_by_case
from cases.service import create_case
from wording import Wording

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
MAX_DESCRIPTION = 4000
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
URL_RE = re.compile(r"^https?://[^\s]{3,1000}$")
ATTRIBUTE_RE = re.compile(r"^attribute\[([A-Za-z0-9_\-]{1,64})\]$")


class Open311Error(Exception):
    """An Open311 error: HTTP status plus the spec's {code, description} body."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        """The error array of the spec."""
        return [{"code": self.status, "description": self.description}]


def locale(args: Mapping[str, str], languages: tuple[str, ...]) -> str:
    """The `locale` extension ("es", "es-US"): which language services are described in.

    English when absent; an unsupported one is refused rather than answered in English, so a
    client never shows residents English text it believes is Spanish.
    """
    raw = args.get("locale", "").strip()
    if not raw:
        return languages[0] if languages else "en"
    code = raw.replace("_", "-").split("-")[0].lower()
    if code not in languages:
        shown = raw[:35]
        raise Open311Error(
            400, f"locale {shown!r} is not supported; use one of: {', '.join(languages)}"
        )
    return code


def service_list(catalog: Catalog) -> list[dict[str, Any]]:
    """GET services: every service of the catalogue."""
    return [
        {
            "service_code": s.service_code,
            "service_name": s.service_name,
            "description": s.description,
            "metadata": bool(s.attributes),
            "type": "realtime",
            "keywords": ", ".join(s.keywords),
            "group": s.group,
        }
        for s in catalog.services
    ]


def find_service(catalog: Catalog, code: str) -> Service:
    """The service with this code, or a 404."""
    service = catalog.by_code.get(code)
    if service is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    return service


def _attribute(attr: Attribute) -> dict[str, Any]:
    body: dict[str, Any] = {
        "variable": True,
        "code": attr.code,
        "datatype": attr.datatype,
        "required": attr.required,
        "datatype_description": attr.datatype_description,
        "order": attr.order,
        "description": attr.description,
    }
    if attr.values:
        body["values"] = [{"key": v.key, "name": v.name} for v in attr.values]
    return body


def service_definition(service: Service) -> dict[str, Any]:
    """GET services/{code}: the follow-up questions the SMS/voice dialogue asks, as attributes."""
    return {
        "service_code": service.service_code,
        "attributes": [_attribute(a) for a in service.attributes],
    }


def request_body(
    case: Case, catalog: Catalog, photos: Sequence[PublicPhoto] = ()
) -> dict[str, Any]:
    """A case as an Open311 service request: the public view, never contact details."""
    return public_request(case, catalog.policy(case.service_code), photos)


def check_jurisdiction(args: Mapping[str, str], configured: str | None) -> None:
    """Reject a jurisdiction_id that is not this server's (when one is configured)."""
    given = args.get("jurisdiction_id")
    if configured and given and given != configured:
        raise Open311Error(404, f"jurisdiction_id {given!r} not found")


@dataclass
class _Place:
    address: str | None = None
    address_id: str | None = None
    lat: float | None = None
    long: float | None = None


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not -limit <= value <= limit or value != value:
        raise Open311Error(400, f"{name} must be between -{limit:g} and {limit:g}")
    return value


def _place(form: Mapping[str, str], streets: StreetDirectory) -> _Place:
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    address = form.get("address_string", "").strip()
    address_id = form.get("address_id", "").strip()
    if bool(lat) != bool(long):
        raise Open311Error(400, "lat and long must be given together")
    if not (lat or address or address_id):
        raise Open311Error(400, "a location is required: lat+long, address_string or address_id")
    place = _Place(address_id=address_id[:128] or None)
    if lat:
        place.lat, place.long = _coordinate(lat, "lat", 90), _coordinate(long, "long", 180)
    if address:
        if len(address) > 256:
            raise Open311Error(400, "address_string is longer than 256 characters")
        found = streets.find(address, strict=False).location
        place.address = found.address if found else address
        if found and place.lat is None:
            place.lat, place.long = found.lat, found.long
    return place


def _attributes(form: Mapping[str, str], service: Service) -> dict[str, str]:
    given: dict[str, str] = {}
    for key, value in form.items():
        match = ATTRIBUTE_RE.match(key)
        if key.startswith("attribute") and not match:
            raise Open311Error(400, f"malformed attribute field {key[:80]!r}")
        if match:
            given[match.group(1)] = value.strip()
    codes = {a.code: a for a in service.attributes}
    for code, value in given.items():
        if not value:
            continue  # an empty field is the same as an absent one
        attr = codes.get(code)
        if attr is None:
            raise Open311Error(400, f"attribute {code!r} is not defined for this service")
        if attr.values and value not in {v.key for v in attr.values}:
            keys = ", ".join(v.key for v in attr.values)
            raise Open311Error(400, f"attribute[{code}] must be one of: {keys}")
        if attr.datatype == "number":
            _coordinate(value, f"attribute[{code}]", 1e12)
        if len(value) > 1000:
            raise Open311Error(400, f"attribute[{code}] is too long")
    for attr in service.attributes:
        if attr.required and not given.get(attr.code):
            raise Open311Error(400, f"attribute[{attr.code}] is required")
    return {code: value for code, value in given.items() if value}


def _optional(form: Mapping[str, str], name: str, limit: int) -> str | None:
    value = form.get(name, "").strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters")
    return value or None


def create_request(
    *,
    db_session: Session,
    form: Mapping[str, str],
    api_key: ApiKey,
    catalog: Catalog,
    streets: StreetDirectory,
    language: str = "en",
    wording: Wording | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """POST requests: validate everything, then file through the same function as the bot.

    `language` (the locale extension) is the reporter's: their status texts and the returned
    notice are in it, while the stored name and notice stay English for staff and the public.
    """
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    service = find_service(catalog, code)
    said = catalog.localized(language).by_code[service.service_code]
    place = _place(form, streets)
    attributes = _attributes(form, service)
    description = form.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    email = _optional(form, "email", 254)
    if email and not EMAIL_RE.match(email):
        raise Open311Error(400, "email is not a valid address")
    media_url = _optional(form, "media_url", 1024)
    if media_url and not URL_RE.match(media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    phone = _optional(form, "phone", 32)
    names = [_optional(form, "first_name", 128), _optional(form, "last_name", 128)]
    for name in ("device_id", "account_id"):
        _optional(form, name, 128)
    case = create_case(
        db_session=db_session,
        service_code=service.service_code,
        service_name=service.service_name,
        agency_responsible=service.agency,
        description=description,
        source="open311",
        address=place.address,
        address_id=place.address_id,
        lat=place.lat,
        long=place.long,
        attributes=attributes,
        expected_days=service.expected_days or None,
        acknowledge_hours=service.acknowledge_hours or None,
        calendar=catalog.calendar,
        service_notice=service.next_steps,
        contact_phone=phone,
        contact_email=email,
        contact_name=" ".join(n for n in names if n) or None,
        media_url=media_url,
        api_key_id=api_key.id,
        language=language,
        now=now,
    )
    notice = service.next_steps  # stored in English, for staff and the public
    shown = said.next_steps  # answered in the reporter's language
    if case.duplicate_of:
        number = db_session.get(Case, case.duplicate_of).service_request_id
        notice = f"Already reported as {number}; linked. {notice}"
        case.service_notice = notice
        if language != "en" and wording is not None:
            # the spoken variant: it has no "reply FOLLOW", which an API client cannot do
            note = wording.text("DUPLICATE_NOTE", "voice", language, number=number)
            shown = f"{note} {shown}"
    # account_id is omitted rather than null: swagger.json's RequestResponse has no nullable.
    return {
        "service_request_id": case.service_request_id,
        "service_notice": notice if language == "en" else shown,
    }


def _date(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (e.g. Z or +00:00)")
    return parsed


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _page_number(args: Mapping[str, str], name: str, default: int, limit: int | None) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise Open311Error(400, f"{name} must be a whole number from 1")
    if limit is not None and int(raw) > limit:
        raise Open311Error(400, f"{name} must be at most {limit}")
    return int(raw)


def search_requests(
    *,
    db_session: Session,
    args: Mapping[str, str],
    catalog: Catalog,
    now: datetime | None = None,
    base_url: str = "",
) -> list[dict[str, Any]]:
    """GET requests: by ids, or by service, status and date range (default: the last 90 days).

    Extensions for incremental sync (README): `updated_after` (only cases changed after it, with
    no default date window), `page` and `page_size` (at most 1000). With any of them the list is
    ordered by updated_datetime, then id, oldest first, so pages are stable; without them the
    spec's defaults stand (90 days, newest first, at most 1000).
    """
    now = now or utcnow()
    query = select(Case).where(Case.service_request_id.is_not(None))
    syncing = any(args.get(k, "").strip() for k in ("updated_after", "page", "page_size"))
    page = _page_number(args, "page", 1, None)
    page_size = _page_number(args, "page_size", MAX_RESULTS, MAX_RESULTS)
    updated_after = (
        _date(args["updated_after"], "updated_after") if args.get("updated_after") else None
    )
    ids = _list(args.get("service_request_id", ""))
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id values")
        query = query.where(Case.service_request_id.in_(ids))
    else:
        codes = _list(args.get("service_code", ""))
        for code in codes:
            find_service(catalog, code)
        statuses = _list(args.get("status", "").lower())
        bad = [s for s in statuses if s not in {"open", "closed"}]
        if bad:
            raise Open311Error(400, "status must be open or closed")
        start = _date(args["start_date"], "start_date") if args.get("start_date") else None
        end = _date(args["end_date"], "end_date") if args.get("end_date") else None
        if updated_after is not None and start is None and end is None:
            pass  # a sync asks for every change since, however old the case
        elif start is None:  # the spec's default window: 90 days up to end_date (or now)
            end = end or now
            start = end - DEFAULT_WINDOW
        elif end is None:
            end = start + DEFAULT_WINDOW
        if start is not None and end is not None and start > end:
            raise Open311Error(400, "start_date is after end_date")
        if start is not None:
            query = query.where(Case.requested_datetime >= start)
        if end is not None:
            query = query.where(Case.requested_datetime <= end)
        if codes:
            query = query.where(Case.service_code.in_(codes))
        if statuses:
            wanted = [x for x in STATUSES if open311_status(x) in statuses]
            query = query.where(Case.status.in_(wanted))
    if updated_after is not None:
        query = query.where(Case.updated_datetime > updated_after)
    if syncing:
        query = (
            query.order_by(Case.updated_datetime, Case.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    else:
        query = query.order_by(Case.requested_datetime.desc(), Case.id.desc()).limit(MAX_RESULTS)
    found = list(db_session.scalars(query))
    shown = approved_photos_by_case(db_session, [c.id for c in found], base_url=base_url)
    return [request_body(case, catalog, shown.get(case.id, ())) for case in found]


def get_request(
    *,
    db_session: Session,
    service_request_id: str,
    catalog: Catalog,
    base_url: str = "",
    extensions: bool = False,
) -> list[dict[str, Any]]:
    """GET requests/{id}: a one-element list, as the spec returns it, or a 404.

    `extensions=true` adds the `notes` extension: the public timeline (status changes with
    their outcome and public note), as Chicago's and SeeClickFix's Open311 servers give it.
    """
    case = db_session.scalars(
        select(Case).where(Case.service_request_id == service_request_id)
    ).first()
    if case is None:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    body = request_body(case, catalog, approved_photos(db_session, case, base_url=base_url))
    if extensions:
        events = db_session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        body["notes"] = open311_notes(case, list(events))
    return [body]
