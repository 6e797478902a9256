"""Who hears about a case and what they read: its reporter, its followers, in their language.

Each change queues one text per phone number: the reporter if they asked for updates, the
numbers that said FOLLOW, and, when a case closes, the reporters of the reports closed with it.
A follower who did not report the case reads only what the public may see of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.enums import OPEN_STATUSES, STATUSES, CaseStatus
from cases.models import Case, CaseEvent, CaseFollower, OptOut, utcnow
from cases.outbox import enqueue_sms
from cases.public import PublicPolicy, case_link, public_place
from wording import Wording

# Open cases one number may follow: case numbers are sequential and FOLLOW needs no link, so
# without a bound one number (or a spoofed one) could sign up for every case's texts.
MAX_FOLLOWING = 20


def may_follow(*, db_session: Session, case: Case, phone: str) -> bool:
    """Whether this number may follow one more case (always, for one it follows already)."""
    follows = select(CaseFollower.id).where(CaseFollower.phone == phone)
    if db_session.scalars(follows.where(CaseFollower.case_id == case.id)).first() is not None:
        return True
    following = db_session.scalar(
        select(func.count())
        .select_from(CaseFollower)
        .join(Case, Case.id == CaseFollower.case_id)
        .where(CaseFollower.phone == phone, Case.status.in_(OPEN_STATUSES))
    )
    return int(following or 0) < MAX_FOLLOWING


def follow(
    *, db_session: Session, case: Case, phone: str, language: str, now: datetime | None = None
) -> bool:
    """Add a number to a case's updates; False if it already gets them."""
    if case.contact_phone == phone and case.updates_wanted:
        return False
    exists = db_session.scalars(
        select(CaseFollower).where(CaseFollower.case_id == case.id, CaseFollower.phone == phone)
    ).first()
    if exists is not None:
        return False
    db_session.add(
        CaseFollower(case_id=case.id, phone=phone, language=language, created_at=now or utcnow())
    )
    db_session.flush()
    return True


def recipients(db_session: Session, cases: list[Case]) -> dict[str, tuple[Case, str, bool]]:
    """phone -> (the case to tell them about, language, reporter?): one entry per number.

    A reporter hears about their own report (with their own address); a follower about the
    case they follow, as the public may see it.
    """
    found: dict[str, tuple[Case, str, bool]] = {}
    for case in cases:
        if case.contact_phone and case.updates_wanted:
            found.setdefault(case.contact_phone, (case, case.language, True))
    ids = [c.id for c in cases]
    by_id = {c.id: c for c in cases}
    for follower in db_session.scalars(
        select(CaseFollower).where(CaseFollower.case_id.in_(ids)).order_by(CaseFollower.id)
    ):
        found.setdefault(follower.phone, (by_id[follower.case_id], follower.language, False))
    return found


def tell(
    *,
    db_session: Session,
    cases: list[Case],
    body: Callable[[Case, str, bool], str],
    reason: str,
    now: datetime,
) -> int:
    """Queue one text per number that asked for updates on these cases, none if opted out.

    `body(case, language, reporter)` words it for that number. The outbox worker refuses
    opted-out numbers again at send time (STOP may come later).
    """
    sent = 0
    found = recipients(db_session, cases)
    stopped = set(db_session.scalars(select(OptOut.phone).where(OptOut.phone.in_(list(found)))))
    for phone, (case, language, reporter) in found.items():
        if phone in stopped:
            continue
        enqueue_sms(
            db_session=db_session,
            to=phone,
            body=body(case, language, reporter)[:1200],
            reason=reason,
            case_id=case.id,
            now=now,
        )
        db_session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor_name="outbox",
                kind="notified",
                notes=f"text to {'the resident' if reporter else 'a follower'} queued",
            )
        )
        sent += 1
    return sent


def notify(
    *,
    db_session: Session,
    cases: list[Case],
    wording: Wording,
    policy: Callable[[str], PublicPolicy] | None,
    now: datetime,
) -> int:
    """Queue the status text of these cases to each number that asked for updates, once."""

    def body(case: Case, language: str, reporter: bool) -> str:
        shown = policy(case.service_code) if policy else PublicPolicy()
        return status_text(wording, case, language=language, public=not reporter, policy=shown)

    return tell(db_session=db_session, cases=cases, body=body, reason="case_status", now=now)


def outcome_words(wording: Wording, case: Case, channel: str, language: str) -> str:
    """'fixed', 'referred to Riverton Gas (555) 010-2000'... in the resident's language."""
    if not case.resolution:
        return ""
    detail = case.resolution_detail or {}
    return wording.text(
        f"RESOLUTION_{case.resolution.upper()}",
        channel,
        language,
        of=detail.get("of", ""),
        to=detail.get("to", ""),
        number=detail.get("phone", ""),
        reason=detail.get("reason", ""),
    )


def status_words(wording: Wording, case: Case, channel: str, language: str) -> str:
    """A case's status in words, with the outcome of a closed case and who has an assigned one."""
    status = case.status if case.status in STATUSES else CaseStatus.RECEIVED
    if status == CaseStatus.CLOSED and case.resolution:
        outcome = outcome_words(wording, case, channel, language)
        return wording.text("STATUS_CLOSED_AS", channel, language, outcome=outcome)
    if status == CaseStatus.ASSIGNED and case.assigned_to:
        return wording.text("STATUS_ASSIGNED_TO", channel, language, who=case.assigned_to)
    return wording.text(f"STATUS_{status.upper()}", channel, language)


def status_text(
    wording: Wording,
    case: Case,
    *,
    language: str | None = None,
    public: bool = False,
    policy: PublicPolicy | None = None,
) -> str:
    """The text telling someone a case changed, in their language; `public`: not the reporter."""
    lang = language or case.language
    address = case.address
    if public:
        address, _, _ = public_place(case, policy or PublicPolicy())
    note = case.status_notes or ""

    def words(name: str, **values: Any) -> str:
        return wording.text(name, "sms", lang, **values)

    return words(
        "STATUS_CHANGED",
        number=case.service_request_id,
        service=wording.service_name(case.service_code, lang) or case.service_name,
        where=words("AT_PLACE", address=address) if address else "",
        status=status_words(wording, case, "sms", lang),
        note=words("STATUS_NOTE", note=note) if note else "",
        link=case_link(wording.site, case),
    )
