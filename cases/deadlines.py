"""Deadlines: a case's due date on the city calendar, overdue cases, and moving a due date.

A service's level (data/services.yml): `acknowledge_hours` (clock hours to pick a case up) and
`expected_days` (business days to resolve it). A case filed on a day is due at the end of the
N-th business day after that day, in the city's time zone (CIVICLINE_TIMEZONE); weekends and
the holidays of data/holidays.yml are not business days. Filed Friday before a Monday holiday
with 1 business day: due Tuesday 23:59:59 local.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.admin_models import User
from cases.audit import record
from cases.enums import OPEN_STATUSES
from cases.models import Case, CaseEvent, utcnow
from cases.public import case_link
from datafiles import load_yaml
from wording import Wording

END_OF_DAY = time(23, 59, 59)
HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "holidays.yml"


class DeadlineError(ValueError):
    """A due date change that is refused (no reason, a date in the past...)."""


@dataclass(frozen=True)
class CityCalendar:
    """The city's clock and business days (weekends and holidays are not)."""

    timezone: str = "America/New_York"
    holidays: dict[date, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def load(cls, path: Path, timezone: str = "America/New_York") -> CityCalendar:
        """Read data/holidays.yml ({holidays: [{date, name}]})."""
        raw = load_yaml(path) or {}
        days: dict[date, str] = {}
        for item in raw.get("holidays") or ():
            when = item["date"]
            days[when if isinstance(when, date) else date.fromisoformat(str(when))] = str(
                item["name"]
            )
        return cls(timezone=timezone, holidays=days)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, day: date, days: int) -> date:
        """The `days`-th business day after `day` (`day` itself when days is 0 and it is one)."""
        if days <= 0:
            while not self.is_business_day(day):
                day += timedelta(days=1)
            return day
        while days:
            day += timedelta(days=1)
            days -= self.is_business_day(day)
        return day

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def end_of(self, day: date) -> datetime:
        """The last second of a local day, UTC."""
        return datetime.combine(day, END_OF_DAY, tzinfo=self.zone).astimezone(UTC)

    def day_bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """[start, end) of the local day of `at`, UTC."""
        day = self.local_day(at)
        start = datetime.combine(day, time(0), tzinfo=self.zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def due(self, filed: datetime, business_days: int) -> datetime:
        """End of the N-th business day after the filing's local day, UTC."""
        return self.end_of(self.add_business_days(self.local_day(filed), business_days))

    def acknowledge_by(self, filed: datetime, hours: int) -> datetime:
        """Clock hours after filing (acknowledging is a triage step, staffed every day)."""
        return filed + timedelta(hours=hours)


@lru_cache(maxsize=1)
def default_calendar() -> CityCalendar:
    """The shipped calendar in the default zone (callers without the runtime's calendar)."""
    return CityCalendar.load(HOLIDAYS_FILE)


# ------------------------------------------------------------------ overdue


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """Open and past its due date."""
    return (
        case.status in OPEN_STATUSES
        and case.due_datetime is not None
        and case.due_datetime < (now or utcnow())
    )


@dataclass(frozen=True)
class AgencyOverdue:
    """One agency's overdue cases: how many in all, and the longest overdue (at most a page)."""

    total: int
    cases: list[Case]


def overdue_by_agency(
    *, db_session: Session, now: datetime | None = None, limit: int = 50
) -> dict[str, AgencyOverdue]:
    """Open cases past their due date, by agency, the longest overdue first (index on due).

    One grouped count, then at most `limit` rows per agency, so the page and the digest cost
    the same with 20 or 20,000 overdue cases.
    """
    now = now or utcnow()
    overdue = (Case.due_datetime < now, Case.status.in_(OPEN_STATUSES))
    totals = db_session.execute(
        select(Case.agency_responsible, func.count())
        .where(*overdue)
        .group_by(Case.agency_responsible)
        .order_by(Case.agency_responsible)
    ).all()
    found: dict[str, AgencyOverdue] = {}
    for agency, total in totals:
        rows = db_session.scalars(
            select(Case)
            .where(*overdue, Case.agency_responsible == agency)
            .order_by(Case.due_datetime, Case.id)
            .limit(limit)
        )
        found[agency] = AgencyOverdue(int(total), list(rows))
    return found


def digest_text(
    agency: str, overdue: AgencyOverdue, *, calendar: CityCalendar, now: datetime, city: str
) -> str:
    """The plain-text daily digest of one agency's overdue cases (the longest overdue listed)."""
    today = calendar.local_day(now)
    total = overdue.total
    lines = [
        f"{city} 311: {total} overdue case{'s' if total != 1 else ''} for {agency}"
        f" on {today.isoformat()}",
        "",
    ]
    for case in overdue.cases:
        assert case.due_datetime is not None
        late = (today - calendar.local_day(case.due_datetime)).days
        lines.append(
            f"{case.service_request_id}  due {calendar.local_day(case.due_datetime).isoformat()}"
            f" ({late} day{'s' if late != 1 else ''} late)  {case.service_name}"
            f"  {case.address or ''}  [{case.status}]".rstrip()
        )
    if total > len(overdue.cases):
        lines.append(f"... and {total - len(overdue.cases)} more: see /console/overdue")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ moving a due date


def move_due(
    *,
    db_session: Session,
    case: Case,
    new_day: date,
    reason: str,
    actor: User,
    wording: Wording,
    calendar: CityCalendar,
    now: datetime | None = None,
) -> int:
    """Move a case's due date to the end of `new_day` (local), with a required reason.

    Audited, recorded as a case event, and the numbers that asked for the case's updates
    (cases.updates.tell: the reporter if they want texts, followers; opted-out numbers
    skipped) are texted the new date in their language, once each. Returns the texts queued.
    """
    from cases.updates import tell

    reason = " ".join(reason.split())[:500]
    if not reason:
        raise DeadlineError("moving a due date needs a reason")
    if case.status not in OPEN_STATUSES:
        raise DeadlineError("the case is closed; reopen it first")
    now = now or utcnow()
    if new_day < calendar.local_day(now):
        raise DeadlineError("the new due date is in the past")
    due = calendar.end_of(new_day)
    if case.due_datetime == due:
        raise DeadlineError("that is already the due date")
    was = calendar.local_day(case.due_datetime).isoformat() if case.due_datetime else ""
    record(
        db_session=db_session,
        actor=actor,
        action="case.due",
        target_type="case",
        target_id=case.service_request_id,
        now=now,
        detail={"from": was, "to": new_day.isoformat(), "reason": reason},
    )
    case.due_datetime = due
    case.expected_datetime = due
    case.updated_datetime = now
    db_session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="due_moved",
            actor_name=actor.username,
            notes=f"due {was or 'none'} → {new_day.isoformat()}: {reason}",
        )
    )

    def body(case: Case, language: str, reporter: bool) -> str:
        lang = wording.language(language)
        return wording.text(
            "DUE_MOVED",
            "sms",
            lang,
            number=case.service_request_id,
            service=wording.service_name(case.service_code, lang) or case.service_name,
            date=wording.date(new_day, lang),
            link=case_link(wording.site, case),
        )

    sent = tell(db_session=db_session, cases=[case], body=body, reason="due_moved", now=now)
    db_session.flush()
    return sent
