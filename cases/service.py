"""Case functions: file a case, look one up, format and parse case numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cases.db import plain_rows
from cases.deadlines import CityCalendar, default_calendar
from cases.enums import OPEN_STATUSES, CaseStatus
from cases.lifecycle import new_token
from cases.models import Case, CaseEvent, utcnow
from cases.redact import redact

CASE_PREFIX = "311-"
CASE_NUMBER_RE = re.compile(r"\b311\s*[-–.]?\s*(\d{6,10})\b")
DUPLICATE_WINDOW = timedelta(days=30)
NEAR_DEGREES = 0.0003  # about 30 m

# Statements every filing runs, built once (no statement construction or cache key per call)
SET_NUMBER = (
    update(Case.__table__)
    .where(Case.__table__.c.id == bindparam("case_id"))
    .values(service_request_id=bindparam("number"))
)
FILED_EVENT = insert(CaseEvent.__table__)
_RECENT_OPEN = select(Case.id).where(
    Case.service_code == bindparam("service_code"),
    Case.status.in_(OPEN_STATUSES),
    Case.requested_datetime >= bindparam("since"),
)
DUPLICATE_AT_ADDRESS = (
    _RECENT_OPEN.where(func.lower(Case.address) == bindparam("address")).order_by(Case.id).limit(1)
)
DUPLICATE_NEARBY = (
    _RECENT_OPEN.where(
        Case.lat.between(bindparam("lat_min"), bindparam("lat_max")),
        Case.long.between(bindparam("long_min"), bindparam("long_max")),
    )
    .order_by(Case.id)
    .limit(1)
)
NUMBER_BY_ID = select(Case.service_request_id).where(Case.id == bindparam("case_id"))


def format_case_number(case_id: int) -> str:
    """The public case number for a database id, e.g. 311-000123."""
    return f"{CASE_PREFIX}{case_id:06d}"


def find_case_number(text: str) -> str | None:
    """The first case number written in free text ('311 000123', '311-000123'), normalised."""
    match = CASE_NUMBER_RE.search(text)
    return f"{CASE_PREFIX}{match.group(1)}" if match else None


def create_case(
    *,
    db_session: Session,
    service_code: str,
    service_name: str,
    agency_responsible: str,
    description: str,
    source: str,
    address: str | None = None,
    lat: float | None = None,
    long: float | None = None,
    attributes: dict[str, Any] | None = None,
    expected_days: int | None = None,
    acknowledge_hours: int | None = None,
    calendar: CityCalendar | None = None,
    service_notice: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    contact_name: str | None = None,
    media_url: str | None = None,
    address_id: str | None = None,
    api_key_id: int | None = None,
    conversation_id: int | None = None,
    language: str = "en",
    updates_wanted: bool = True,
    now: datetime | None = None,
) -> Case:
    """File a new open case and give it its public number (inside the caller's transaction).

    `expected_days` are business days to resolve on the city `calendar` (cases/deadlines.py):
    the case is due at the end of that day, local time (`due_datetime`, also Open311's
    `expected_datetime`). The description is redacted here, whatever the channel, and an
    open case of the same service at the same place in the last DUPLICATE_WINDOW is recorded
    as `duplicate_of`.
    """
    now = now or utcnow()
    calendar = calendar or default_calendar()
    due = calendar.due(now, expected_days) if expected_days else None
    duplicate = find_duplicate(
        db_session=db_session,
        service_code=service_code,
        address=address,
        lat=lat,
        long=long,
        now=now,
    )
    case = Case(
        service_code=service_code,
        service_name=service_name,
        agency_responsible=agency_responsible,
        description=redact(description)[:4000],
        source=source,
        address=address,
        lat=lat,
        long=long,
        attributes=attributes or {},
        status=CaseStatus.RECEIVED,
        service_notice=service_notice,
        requested_datetime=now,
        updated_datetime=now,
        expected_datetime=due,
        due_datetime=due,
        acknowledge_by=calendar.acknowledge_by(now, acknowledge_hours)
        if acknowledge_hours
        else None,
        contact_phone=contact_phone,
        contact_email=contact_email,
        contact_name=contact_name,
        media_url=media_url,
        address_id=address_id,
        api_key_id=api_key_id,
        duplicate_of=duplicate.id if duplicate else None,
        conversation_id=conversation_id,
        language=language,
        updates_wanted=updates_wanted,
        public_token=new_token(),
    )
    db_session.add(case)
    db_session.flush()
    # the number comes from the id: set by one UPDATE and the event by one INSERT, not a second
    # pass of the unit of work (set_committed_value: the object knows, nothing left to flush)
    number = format_case_number(case.id)
    connection = db_session.connection()
    connection.execute(SET_NUMBER, {"case_id": case.id, "number": number})
    set_committed_value(case, "service_request_id", number)
    connection.execute(
        FILED_EVENT,
        {
            "case_id": case.id,
            "at": now,
            "kind": "filed",
            "to_status": CaseStatus.RECEIVED,
            "actor_name": source,
            "notes": None,
        },
    )
    return case


def get_case(*, db_session: Session, service_request_id: str) -> Case | None:
    """The case with this public number, or None."""
    return db_session.scalars(
        select(Case).where(Case.service_request_id == service_request_id)
    ).first()


def find_duplicate(
    *,
    db_session: Session,
    service_code: str,
    address: str | None,
    lat: float | None,
    long: float | None,
    now: datetime,
) -> Row[tuple[int]] | None:
    """An open case of the same service at the same address (or within ~30 m), recently filed:
    a row of its id (every filing asks; the reply reads the number with `case_number`)."""
    params: dict[str, Any] = {"service_code": service_code, "since": now - DUPLICATE_WINDOW}
    query: Select[tuple[int]]
    if address:
        query, params["address"] = DUPLICATE_AT_ADDRESS, address.lower()
    elif lat is not None and long is not None:
        query = DUPLICATE_NEARBY
        params |= {"lat_min": lat - NEAR_DEGREES, "lat_max": lat + NEAR_DEGREES}
        params |= {"long_min": long - NEAR_DEGREES, "long_max": long + NEAR_DEGREES}
    else:
        return None
    return plain_rows(db_session, query, params, model=Case).first()


def case_number(*, db_session: Session, case_id: int) -> str | None:
    """The public number of a case by its id (None: no such case)."""
    return db_session.connection().execute(NUMBER_BY_ID, {"case_id": case_id}).scalar()
