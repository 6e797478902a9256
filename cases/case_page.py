"""The public case page (/c/311-000123-k7Q2xR) as words: what a resident with the link may read.

Everything comes through the one public view of a case (cases/public.py): the place as the
service's policy allows, the public timeline, approved photos. The page also tells the resident
how many members of staff opened the case in the console and when, never who ("who looked at
my data"): each opening is one `CaseView`, at most one per member of staff per hour.

Every word is the message catalogue's, in the case's language unless another one is asked for.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.enums import CaseStatus
from cases.models import Case, CaseEvent, CaseView, utcnow
from cases.public import PublicPolicy, public_photos, public_request, timeline
from cases.updates import status_words
from wording import Wording

CHANNEL = "sms"  # the page's words are the texts' (wording/uses.py declares them for SMS)
VIEW_EVERY = timedelta(hours=1)  # one view per member of staff per case per hour is enough
VIEW_DAYS_SHOWN = 10  # the most recent days a case was opened, listed on the page
VIEW_ROWS_READ = 200  # the most recent views read to find those days
# outcomes whose words need no detail: a closing that was later reopened lost its detail
NO_DETAIL = frozenset({"fixed", "no_action_needed"})


# ------------------------------------------------------------------ staff views


def record_staff_view(
    *, db_session: Session, case: Case, user_id: int, now: datetime | None = None
) -> bool:
    """Note that a member of staff opened the case; False if they did within the last hour."""
    now = now or utcnow()
    recent = db_session.scalars(
        select(CaseView.id)
        .where(
            CaseView.case_id == case.id,
            CaseView.user_id == user_id,
            CaseView.at > now - VIEW_EVERY,
        )
        .limit(1)
    ).first()
    if recent is not None:
        return False
    db_session.add(CaseView(case_id=case.id, user_id=user_id, at=now))
    db_session.flush()
    return True


@dataclass(frozen=True)
class StaffViews:
    """How many members of staff opened a case, the last time, and the recent days (not who)."""

    staff: int = 0
    last: datetime | None = None
    days: tuple[date, ...] = ()  # newest first


def staff_views(db_session: Session, case: Case) -> StaffViews:
    """The staff views of a case (two indexed queries on case_views)."""
    staff, last = db_session.execute(
        select(func.count(func.distinct(CaseView.user_id)), func.max(CaseView.at)).where(
            CaseView.case_id == case.id
        )
    ).one()
    if not staff:
        return StaffViews()
    recent = db_session.scalars(
        select(CaseView.at)
        .where(CaseView.case_id == case.id)
        .order_by(CaseView.at.desc())
        .limit(VIEW_ROWS_READ)
    )
    days: list[date] = []
    for at in recent:
        if at.date() not in days:
            days.append(at.date())
    return StaffViews(int(staff), last, tuple(days[:VIEW_DAYS_SHOWN]))


# ------------------------------------------------------------------ linked reports


def same_problem(db_session: Session, case: Case) -> tuple[int, bool]:
    """(other reports of the same problem, whether this one is linked to an earlier report).

    A case others were linked to counts them; a linked case counts the report it is linked to
    and that report's other linked reports. Only numbers: never their pages or contents.
    """
    original = case.duplicate_of or case.id
    linked = int(
        db_session.scalar(
            select(func.count()).select_from(Case).where(Case.duplicate_of == original)
        )
        or 0
    )
    # a linked case: the original plus the reports linked to it, less this one = `linked`
    return linked, case.duplicate_of is not None


# ------------------------------------------------------------------ the page


class _Words:
    """The catalogue in one language on the page's channel."""

    def __init__(self, wording: Wording, language: str):
        self.wording, self.language = wording, language

    def text(self, name: str, **values: Any) -> str:
        return self.wording.text(name, CHANNEL, self.language, **values)

    def date(self, when: date | datetime) -> str:
        return self.wording.date(when, self.language)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the public history: when, what happened in words, the public note."""

    at: str  # ISO 8601 (the <time> element's datetime)
    when: str  # the date in the page's language
    what: str  # "Assigned to DPW Crew 4", "Closed (fixed)"
    status: str  # received | assigned | ... | closed (a CSS class)
    note: str | None = None


@dataclass(frozen=True)
class CasePage:
    """Everything the public case page shows, already in words of its language."""

    language: str
    languages: tuple[tuple[str, str, str], ...]  # (code, name, ?lang= link query) to switch
    labels: dict[str, str]  # static wording of the page: title, headings, field names
    number: str
    service: str
    agency: str
    place: str | None
    filed: str
    expected: str | None
    status: str  # in words, with the outcome of a closed case
    status_code: str
    note: str | None  # the latest public note
    timeline: tuple[TimelineEntry, ...]
    others: str | None  # "3 other residents reported the same problem."
    linked: str | None  # "This report is linked to a report of the same problem ..."
    views: str  # "Viewed by 2 staff members; last on Dec 7, 2026."
    view_days: tuple[str, ...]
    # Approved photos (before/after), each with kind, url, thumbnail_url, width, height:
    # from cases.public.public_photos (only those staff approved).
    photos: list[Any] = field(default_factory=list)


def find_case(db_session: Session, ref: str) -> Case | None:
    """The case behind a page address ('311-000123-k7Q2xR'), or None: unknown or wrong token.

    The token is compared in constant time; a case without one has no page.
    """
    number, _, token = ref.rpartition("-")
    if not number or not token or len(ref) > 64:
        return None
    case = db_session.scalars(select(Case).where(Case.service_request_id == number)).first()
    if case is None or not case.public_token:
        return None
    if not hmac.compare_digest(token.encode(), case.public_token.encode()):
        return None
    return case


def page_language(wording: Wording, case: Case | None, asked: str | None) -> str:
    """?lang= when the catalogue has it, else the case's language (English without a case)."""
    if asked and asked in wording.catalogues:
        return asked
    return wording.language(case.language if case is not None else None)


def _labels(say: _Words, number: str | None) -> dict[str, str]:
    """The page's fixed wording (field names, headings), by name in lower case."""
    labels = {
        "language": say.text("PAGE_LANGUAGE"),
        "privacy": say.text("PAGE_PRIVACY"),
    }
    if number is None:
        labels["title"] = say.text("PAGE_NOT_FOUND_TITLE")
        labels["not_found"] = say.text("PAGE_NOT_FOUND")
        return labels
    labels.update(
        title=say.text("PAGE_TITLE", number=number),
        service=say.text("PAGE_SERVICE"),
        place=say.text("PAGE_PLACE"),
        filed=say.text("PAGE_FILED"),
        expected=say.text("PAGE_EXPECTED"),
        status=say.text("PAGE_STATUS"),
        note=say.text("PAGE_NOTE"),
        history=say.text("PAGE_HISTORY"),
        photos=say.text("PAGE_PHOTOS"),
        before=say.text("PAGE_PHOTO_BEFORE"),
        after=say.text("PAGE_PHOTO_AFTER"),
        views_heading=say.text("PAGE_VIEWS_HEADING"),
        views_explained=say.text("PAGE_VIEWS_EXPLAINED"),
        view_days=say.text("PAGE_VIEW_DAYS"),
    )
    return labels


def _switch(wording: Wording, language: str) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (code, wording.catalogues[code].name, f"?lang={code}")
        for code in wording.languages
        if code != language
    )


def _entry_words(wording: Wording, case: Case, entry: dict[str, Any], language: str) -> str:
    """A timeline entry's status in words through the same status_words the texts use."""
    status = str(entry["status"])
    if entry["type"] == "note" and not entry.get("assigned_to"):
        return wording.text("PAGE_UPDATE", CHANNEL, language)
    resolution = entry.get("resolution")
    current = case.status == CaseStatus.CLOSED and resolution == case.resolution
    detail = dict(case.resolution_detail or {}) if current else {}
    if resolution and not current and resolution not in NO_DETAIL:
        resolution = None  # reopened since: its detail (to whom, why) is no longer kept
    snapshot = Case(
        status=status,
        assigned_to=entry.get("assigned_to"),
        resolution=resolution,
        resolution_detail=detail,
    )
    return status_words(wording, snapshot, CHANNEL, language)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _views(say: _Words, views: StaffViews) -> tuple[str, tuple[str, ...]]:
    if not views.staff or views.last is None:
        return say.text("PAGE_VIEWS_NONE"), ()
    last = say.date(views.last)
    if views.staff == 1:
        summary = say.text("PAGE_VIEWS_ONE", date=last)
    else:
        summary = say.text("PAGE_VIEWS", count=views.staff, date=last)
    return summary, tuple(say.date(day) for day in views.days)


def case_page(
    *,
    db_session: Session,
    case: Case,
    wording: Wording,
    policy: Callable[[str], PublicPolicy],
    language: str | None = None,
) -> CasePage:
    """The public page of a case (found with `find_case`) in a language (default: the case's)."""
    lang = page_language(wording, case, language)
    say = _Words(wording, lang)
    number = case.service_request_id or ""
    # what the public may see of the case (place by the service's policy, public note only)
    shown = public_request(case, policy(case.service_code))
    expected = shown["expected_datetime"]
    events = list(
        db_session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
    entries = []
    for entry in timeline(case, events):
        at = datetime.fromisoformat(entry["datetime"])
        entries.append(
            TimelineEntry(
                at=entry["datetime"],
                when=say.date(at),
                what=_first_upper(_entry_words(wording, case, entry, lang)),
                status=str(entry["status"]),
                note=entry.get("note"),
            )
        )
    others, linked = same_problem(db_session, case)
    if others == 1:
        others_words: str | None = say.text("PAGE_OTHERS_ONE")
    elif others > 1:
        others_words = say.text("PAGE_OTHERS", count=others)
    else:
        others_words = None
    views, view_days = _views(say, staff_views(db_session, case))
    return CasePage(
        language=lang,
        languages=_switch(wording, lang),
        labels=_labels(say, number),
        number=number,
        service=wording.service_name(case.service_code, lang) or shown["service_name"],
        agency=shown["agency_responsible"],
        place=shown["address"],
        filed=say.date(datetime.fromisoformat(shown["requested_datetime"])),
        expected=say.date(datetime.fromisoformat(expected)) if expected else None,
        status=_first_upper(status_words(wording, case, CHANNEL, lang)),
        status_code=case.status,
        note=shown["status_notes"],
        timeline=tuple(entries),
        others=others_words,
        linked=say.text("PAGE_LINKED") if linked else None,
        views=views,
        view_days=view_days,
        photos=public_photos(db_session, case),
    )


@dataclass(frozen=True)
class NotFoundPage:
    """The page for a wrong, missing or unknown address: the same whatever was wrong."""

    language: str
    languages: tuple[tuple[str, str, str], ...]
    labels: dict[str, str]


def not_found_page(wording: Wording, language: str | None = None) -> NotFoundPage:
    """The not-found page in English, or the language asked for with ?lang=."""
    lang = page_language(wording, None, language)
    return NotFoundPage(lang, _switch(wording, lang), _labels(_Words(wording, lang), None))
