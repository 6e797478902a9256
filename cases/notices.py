"""City notices and residents' alert subscriptions; a notice's broadcast through the outbox.

- A notice is active from `starts_at` until `ends_at` (or until staff end it: `ended_at`).
- Its place is citywide (no streets) or a list of canonical street names (bot/locations.py).
- A notice of one or more services has a parent case: named by staff, or filed for it when it
  is published (source "staff"); reports it deflects are told that case's number.
- A broadcast queues at most one text per subscribed number whose topic and street match,
  never to an opted-out number (the worker refuses them again at send time), spread at
  `per_minute` texts a minute, each inside the city's text hours (retries stop when they end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from cases.db import plain_rows
from cases.fix_checks import FixCheckRules
from cases.models import Case, OptOut, OutboundMessage, utcnow
from cases.notice_models import AlertSubscription, Notice
from cases.service import create_case, get_case

REASON = "notice"  # the outbox reason of broadcast texts


class NoticeError(ValueError):
    """A notice that cannot be saved as given (shown to staff)."""


@dataclass(frozen=True)
class Broadcast:
    """How many texts a broadcast queued, how many it skipped (opted out), and their schedule."""

    queued: int
    skipped: int
    first_at: datetime | None
    last_at: datetime | None


def is_active(notice: Notice, now: datetime) -> bool:
    """Whether the notice is shown now."""
    return notice.ended_at is None and notice.starts_at <= now < notice.ends_at


# Asked on every welcome, answer and filing: built once, so their compiled SQL is reused.
_SHOWN = (
    Notice.starts_at <= bindparam("now"),
    Notice.ends_at > bindparam("now"),
    Notice.ended_at.is_(None),
)
ANY_ACTIVE = select(Notice.id).where(*_SHOWN).limit(1)
ACTIVE = select(Notice).where(*_SHOWN).order_by(Notice.starts_at.desc(), Notice.id.desc())


def active(*, db_session: Session, now: datetime) -> list[Notice]:
    """The notices shown now, newest first."""
    if plain_rows(db_session, ANY_ACTIVE, {"now": now}, model=Notice).first() is None:
        return []  # the usual case: one plain-row query, no objects loaded
    return list(db_session.scalars(ACTIVE, {"now": now}))


def text_of(notice: Notice, language: str) -> str:
    """The notice's words in a language, English when it has none in that one."""
    texts = notice.texts or {}
    return str(texts.get(language) or texts.get("en") or next(iter(texts.values()), ""))


def citywide(*, db_session: Session, now: datetime) -> list[Notice]:
    """Active notices for the whole city (a call's greeting plays them)."""
    return [n for n in active(db_session=db_session, now=now) if not n.streets]


def for_topic(*, db_session: Session, intent: str, now: datetime) -> list[Notice]:
    """Active notices about a knowledge-base topic (its answer starts with them)."""
    return [n for n in active(db_session=db_session, now=now) if intent in (n.kb_intents or [])]


def for_report(
    *, db_session: Session, service_code: str, street: str | None, now: datetime
) -> Notice | None:
    """The active notice a report of this service at this street is already known by, if any."""
    for notice in active(db_session=db_session, now=now):
        if notice.parent_case_id is None or service_code not in (notice.service_codes or []):
            continue
        if not notice.streets or (street is not None and street in notice.streets):
            return notice
    return None


def parent_number(*, db_session: Session, notice: Notice) -> str | None:
    """The public number of the notice's parent case."""
    case = db_session.get(Case, notice.parent_case_id) if notice.parent_case_id else None
    return case.service_request_id if case else None


def publish(
    *,
    db_session: Session,
    texts: dict[str, str],
    streets: list[str],
    service_codes: list[str],
    kb_intents: list[str],
    starts_at: datetime,
    ends_at: datetime,
    actor_name: str,
    parent_number: str | None = None,
    parent_fields: Callable[[str], dict[str, str]] | None = None,
    now: datetime | None = None,
) -> Notice:
    """Save a new notice; file its parent case when it has services and names none.

    `parent_fields(service_code)` gives the parent case's service_name and agency_responsible.
    """
    now = now or utcnow()
    notice = Notice(created_by=actor_name, created_at=now)
    _fill(notice, texts, streets, service_codes, kb_intents, starts_at, ends_at)
    if parent_number:
        case = get_case(db_session=db_session, service_request_id=parent_number.strip())
        if case is None:
            raise NoticeError(f"No case {parent_number}.")
        notice.parent_case_id = case.id
    elif service_codes and parent_fields is not None:
        fields = parent_fields(service_codes[0])
        where = ", ".join(streets) if streets else "citywide"
        case = create_case(
            db_session=db_session,
            service_code=service_codes[0],
            service_name=fields["service_name"],
            agency_responsible=fields["agency_responsible"],
            description=f"City notice ({where}): {texts.get('en', '')}"[:4000],
            source="staff",
            updates_wanted=False,
            now=now,
        )
        notice.parent_case_id = case.id
    db_session.add(notice)
    db_session.flush()
    return notice


def edit(
    *,
    db_session: Session,
    notice: Notice,
    texts: dict[str, str],
    streets: list[str],
    service_codes: list[str],
    kb_intents: list[str],
    starts_at: datetime,
    ends_at: datetime,
) -> Notice:
    """Change a notice's words, place, topics or times (its parent case stays)."""
    _fill(notice, texts, streets, service_codes, kb_intents, starts_at, ends_at)
    db_session.flush()
    return notice


def end(*, db_session: Session, notice: Notice, now: datetime) -> Notice:
    """End a notice now: it is no longer shown nor deflects reports."""
    notice.ended_at = now
    notice.ends_at = min(notice.ends_at, now)
    db_session.flush()
    return notice


def _fill(
    notice: Notice,
    texts: dict[str, str],
    streets: list[str],
    service_codes: list[str],
    kb_intents: list[str],
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    texts = {k: v.strip() for k, v in texts.items() if v and v.strip()}
    if "en" not in texts:
        raise NoticeError("A notice needs its English text.")
    if ends_at <= starts_at:
        raise NoticeError("A notice must end after it starts.")
    if not service_codes and not kb_intents:
        raise NoticeError("Name at least one service or knowledge-base topic.")
    notice.texts = texts
    notice.streets = sorted(set(streets))
    notice.service_codes = sorted(set(service_codes))
    notice.kb_intents = sorted(set(kb_intents))
    notice.starts_at, notice.ends_at = starts_at, ends_at


def listed(*, db_session: Session, now: datetime) -> dict[str, list[Notice]]:
    """Every notice as active, upcoming or past (for the console)."""
    groups: dict[str, list[Notice]] = {"active": [], "upcoming": [], "past": []}
    for notice in db_session.scalars(select(Notice).order_by(Notice.starts_at.desc())):
        if is_active(notice, now):
            groups["active"].append(notice)
        elif notice.ended_at is None and notice.starts_at > now:
            groups["upcoming"].append(notice)
        else:
            groups["past"].append(notice)
    return groups


# ------------------------------------------------------------------ subscriptions
def subscribe(
    *,
    db_session: Session,
    phone: str,
    service_codes: list[str],
    street: str | None,
    language: str,
    source_text: str,
    now: datetime,
) -> AlertSubscription:
    """Record a number's consent to alerts (its own words kept as the proof)."""
    sub = AlertSubscription(
        phone=phone,
        service_codes=sorted(set(service_codes)),
        street=street,
        language=language,
        consented_at=now,
        source_text=source_text[:320],
    )
    db_session.add(sub)
    db_session.flush()
    return sub


def unsubscribe(*, db_session: Session, phone: str, now: datetime) -> int:
    """End every alert subscription of a number ("ALERTS OFF"); how many were ended."""
    result = db_session.execute(
        update(AlertSubscription)
        .where(AlertSubscription.phone == phone, AlertSubscription.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def subscribers(*, db_session: Session, notice: Notice) -> list[AlertSubscription]:
    """The current subscriptions a notice concerns: topic and street (one per number)."""
    query = select(AlertSubscription).where(AlertSubscription.ended_at.is_(None))
    if notice.streets:
        query = query.where(
            AlertSubscription.street.is_(None) | AlertSubscription.street.in_(notice.streets)
        )
    codes = set(notice.service_codes or [])
    chosen: dict[str, AlertSubscription] = {}
    for sub in db_session.scalars(query.order_by(AlertSubscription.id)):
        if sub.service_codes and codes and not codes & set(sub.service_codes):
            continue
        chosen.setdefault(sub.phone, sub)
    return list(chosen.values())


def schedule(
    rules: FixCheckRules, start: datetime, count: int, per_minute: int
) -> Iterable[tuple[datetime, datetime]]:
    """(send at, give up at) for `count` texts from `start`, `per_minute` a minute, in hours."""
    rules = replace(rules, delay=timedelta(0))
    step = timedelta(seconds=60 / max(per_minute, 1))
    at = start
    for _ in range(count):
        send_at, closes = rules.ask_time(at)
        yield send_at, closes
        at = send_at + step


def broadcast(
    *,
    db_session: Session,
    notice: Notice,
    body: Callable[[str], str],
    rules: FixCheckRules,
    per_minute: int,
    now: datetime,
) -> Broadcast:
    """Queue one text per subscriber the notice concerns; `body(language)` gives its words."""
    subs = subscribers(db_session=db_session, notice=notice)
    opted_out = set(db_session.scalars(select(OptOut.phone)))
    sending = [s for s in subs if s.phone not in opted_out]
    bodies: dict[str, str] = {}
    rows = []
    for sub, (send_at, give_up_at) in zip(
        sending, schedule(rules, now, len(sending), per_minute), strict=True
    ):
        if sub.language not in bodies:
            bodies[sub.language] = body(sub.language)
        rows.append(
            {
                "to": sub.phone,
                "body": bodies[sub.language],
                "reason": REASON,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": send_at,
                "created_at": now,
                "give_up_at": give_up_at,
                "case_id": notice.parent_case_id,
            }
        )
    if rows:
        db_session.execute(insert(OutboundMessage), rows)
    notice.broadcast_queued += len(rows)
    notice.broadcast_skipped += len(subs) - len(rows)
    return Broadcast(
        queued=len(rows),
        skipped=len(subs) - len(rows),
        first_at=rows[0]["next_attempt_at"] if rows else None,
        last_at=rows[-1]["next_attempt_at"] if rows else None,
    )
