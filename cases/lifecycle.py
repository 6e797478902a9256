"""A case's life after filing: assign, work, close with an outcome, reopen.

Every change is one CaseEvent (the timeline the public page and Open311 `notes` show), one
audit entry when staff made it, and at most one text per phone number: the reporter (if they
asked for updates), the people who said "follow", and, when a case closes, the reporters of
the reports linked to it, who get the same outcome.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.admin_models import User
from cases.audit import record
from cases.enums import OPEN_STATUSES, RESOLUTIONS, STATUSES, CaseStatus, Resolution
from cases.fix_checks import FixCheckRules, cancel_unsent, queue_checks, record_answer
from cases.models import Case, CaseEvent, FixCheck, utcnow
from cases.public import PublicPolicy
from cases.redact import redact
from cases.updates import follow, notify
from wording import Wording

TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
TOKEN_LENGTH = 6  # 56^6 ≈ 3e10 addresses per case number: not guessable at our rate limits
PHONE_RE = re.compile(r"^\+?[\d\s().\-]{7,20}$")


def new_token() -> str:
    """The random end of a public case page address (311-000123-k7Q2xR)."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


class CaseError(ValueError):
    """A case change that cannot be made."""


@dataclass(frozen=True)
class Change:
    """What staff asked for on a case: a status and what that status needs."""

    status: str
    notes: str = ""  # internal
    public_note: str = ""  # texted and published
    assigned_to: str = ""
    resolution: str = ""
    duplicate_of: str = ""  # a case number, for resolution duplicate
    referred_to: str = ""
    referred_phone: str = ""
    reason: str = ""  # for resolution unable_to_act


def _clean(text: str, limit: int) -> str:
    return redact(text.strip())[:limit]


def _resolution_detail(
    change: Change, case: Case, db_session: Session
) -> tuple[dict[str, Any], Case | None]:
    """Check what the resolution code needs; the detail stored with it, and the original."""
    if change.resolution not in RESOLUTIONS:
        raise CaseError("closing needs a resolution: " + ", ".join(RESOLUTIONS))
    if not change.public_note.strip():
        raise CaseError("closing needs a public note: the resident reads it")
    if change.resolution == Resolution.DUPLICATE:
        number = change.duplicate_of.strip()
        original = db_session.scalars(select(Case).where(Case.service_request_id == number)).first()
        if original is None:
            raise CaseError(f"duplicate of which case? {number or '(none given)'} was not found")
        if original.id == case.id or original.duplicate_of == case.id:
            raise CaseError("a case cannot be a duplicate of itself or of its own duplicate")
        return {"of": original.service_request_id}, original
    if change.resolution == Resolution.REFERRED:
        to, phone = change.referred_to.strip()[:128], change.referred_phone.strip()[:32]
        if not to or not PHONE_RE.match(phone):
            raise CaseError("referred needs to whom and their phone number")
        return {"to": to, "phone": phone}, None
    if change.resolution == Resolution.UNABLE_TO_ACT:
        reason = _clean(change.reason, 500)
        if not reason:
            raise CaseError("unable to act needs a reason")
        return {"reason": reason}, None
    return {}, None


def update_case(
    *,
    db_session: Session,
    case: Case,
    change: Change,
    actor: User,
    wording: Wording,
    policy: Callable[[str], PublicPolicy] | None = None,
    fix_checks: FixCheckRules | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """Apply a staff change (checked), keep the history, audit it and queue the texts, at once.

    `policy` gives a service's public policy: followers who did not report a case get only
    what the public may see of it. A closing as fixed also queues "Was it fixed?" for its
    reporters and those of the linked reports closed with it, when `fix_checks` allows
    (cases/fix_checks.py; default rules when not given).
    """
    if change.status not in STATUSES:
        raise CaseError("status must be one of " + ", ".join(STATUSES))
    notes = _clean(change.notes, 2000)
    public_note = _clean(change.public_note, 1000)
    assigned_to = change.assigned_to.strip()[:128]
    if change.status == CaseStatus.ASSIGNED and not (assigned_to or case.assigned_to):
        raise CaseError("assigned needs the agency, crew or team it is assigned to")
    detail: dict[str, Any] = {}
    original = None
    if change.status == CaseStatus.CLOSED:
        if case.status == CaseStatus.CLOSED:
            raise CaseError("the case is already closed; reopen it first")
        detail, original = _resolution_detail(change, case, db_session)
    unchanged = change.status == case.status and (
        not assigned_to or assigned_to == case.assigned_to
    )
    if unchanged and not notes and not public_note:
        raise CaseError("nothing changed: pick another status or add a note")
    now = now or utcnow()
    record(
        db_session=db_session,
        actor=actor,
        action="case.status",
        target_type="case",
        target_id=case.service_request_id,
        now=now,
        detail={
            "from": case.status,
            "to": change.status,
            "notes": notes,
            "public_note": public_note,
            "assigned_to": assigned_to,
            "resolution": change.resolution if change.status == CaseStatus.CLOSED else "",
            **detail,
        },
    )
    if change.status == CaseStatus.REOPENED and case.status == CaseStatus.CLOSED:
        case.reopen_count += 1
    if case.status == CaseStatus.CLOSED and change.status != CaseStatus.CLOSED:
        cancel_unsent(db_session=db_session, case=case)  # no "was it fixed?" about an open case
    event = _apply(
        db_session,
        case,
        change.status,
        actor=actor.username,
        notes=notes,
        public_note=public_note,
        assigned_to=assigned_to,
        resolution=change.resolution if change.status == CaseStatus.CLOSED else None,
        detail=detail,
        now=now,
    )
    changed = [case]
    if change.status == CaseStatus.CLOSED and original is not None:
        case.duplicate_of = original.id
        _relink(db_session, case, original, now)
    elif change.status == CaseStatus.CLOSED:
        changed += _close_linked(db_session, case, now)
    notify(db_session=db_session, cases=changed, wording=wording, policy=policy, now=now)
    if change.status == CaseStatus.CLOSED and change.resolution == Resolution.FIXED:
        db_session.flush()  # the closing event's id
        queue_checks(
            db_session=db_session,
            cases=changed,
            closing=event,
            wording=wording,
            policy=policy,
            rules=fix_checks or FixCheckRules(),
            now=now,
        )
    db_session.flush()
    return event


def _apply(
    db_session: Session,
    case: Case,
    status: str,
    *,
    actor: str,
    notes: str = "",
    public_note: str = "",
    assigned_to: str = "",
    resolution: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> CaseEvent:
    """Set the case's fields for a status and record the event."""
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor_name=actor,
        kind="status",
        from_status=case.status,
        to_status=status,
        notes=notes or None,
        public_note=public_note or None,
        resolution=resolution,
        assigned_to=assigned_to or None,
    )
    db_session.add(event)
    case.status, case.updated_datetime = status, now
    if assigned_to:
        case.assigned_to = assigned_to
    if notes:
        case.internal_notes = notes
    if public_note:
        case.status_notes = public_note
    if status == CaseStatus.CLOSED:
        case.resolution, case.resolution_detail, case.closed_datetime = resolution, detail, now
    else:
        case.resolution, case.resolution_detail, case.closed_datetime = None, {}, None
    return event


def linked_cases(db_session: Session, case: Case) -> list[Case]:
    """The reports linked to this case as the same problem."""
    return list(
        db_session.scalars(select(Case).where(Case.duplicate_of == case.id).order_by(Case.id))
    )


def _close_linked(db_session: Session, case: Case, now: datetime) -> list[Case]:
    """Close the open reports linked to a closed case with its outcome and public note."""
    closed = []
    for linked in linked_cases(db_session, case):
        if linked.status == CaseStatus.CLOSED:
            continue
        _apply(
            db_session,
            linked,
            CaseStatus.CLOSED,
            actor="linked",
            public_note=case.status_notes or "",
            resolution=case.resolution,
            detail=dict(case.resolution_detail or {}, linked_to=case.service_request_id),
            now=now,
        )
        closed.append(linked)
    return closed


def _relink(db_session: Session, case: Case, original: Case, now: datetime) -> None:
    """A case closed as a duplicate hands its own linked reports to the original, still open."""
    for linked in linked_cases(db_session, case):
        linked.duplicate_of = original.id
        db_session.add(
            CaseEvent(
                case_id=linked.id,
                at=now,
                actor_name="linked",
                kind="linked",
                notes=f"now linked to {original.service_request_id}",
            )
        )


def reopen(
    *, db_session: Session, case: Case, actor: str, notes: str, now: datetime | None = None
) -> CaseEvent:
    """Put a closed case back in the agency's queue (a resident said it was not fixed)."""
    now = now or utcnow()
    case.reopen_count += 1
    return _apply(db_session, case, CaseStatus.REOPENED, actor=actor, notes=notes, now=now)


@dataclass(frozen=True)
class Reopened:
    """What a resident's "no" or "partly" did to the case they were asked about."""

    case: Case  # the report the resident was asked about
    worked: Case  # the case staff closed: the same one, or the one the report is linked to
    reopened: bool  # False when it was open again already
    times: int  # the worked case's reopen count now


def not_fixed(
    *, db_session: Session, check: FixCheck, answer: str, now: datetime | None = None
) -> Reopened | None:
    """A resident says it is not (all) fixed: the case staff closed goes back to its agency.

    The resident's own linked report is reopened with it, so the next closing closes it again
    and asks them again, and the resident follows the worked case's updates meanwhile.
    Questions about that closing not yet sent to others are dropped. None: the check was
    answered already (by another message handled at the same time).
    """
    now = now or utcnow()
    if not record_answer(db_session, check, answer, now):
        return None
    case = db_session.get(Case, check.case_id)
    closing = db_session.get(CaseEvent, check.closing_event_id)
    if case is None or closing is None:
        raise CaseError("the case of this question is gone")
    worked = db_session.get(Case, closing.case_id) or case
    said = {"no": "not fixed", "partly": "only partly fixed"}.get(answer, answer)
    reopened = False
    for target in dict.fromkeys([worked, case]):  # the worked case first, each once
        if target.status == CaseStatus.CLOSED:
            reopen(
                db_session=db_session,
                case=target,
                actor="resident",
                notes=f"the reporter of {case.service_request_id} answered: {said}",
                now=now,
            )
            reopened = True
    if worked is not case:
        follow(
            db_session=db_session, case=worked, phone=check.phone, language=check.language, now=now
        )
    cancel_unsent(db_session=db_session, case=worked)
    db_session.flush()
    return Reopened(case, worked, reopened, worked.reopen_count)


def is_open(case: Case) -> bool:
    """Whether the case is still being worked on."""
    return case.status in OPEN_STATUSES
