"""Is it fixed? After a closing as fixed, ask each reporter once, in daytime; keep answers.

- Queued with the closing, in its transaction (the transactional outbox), so no question is
  lost and none is asked for a closing that was rolled back. The outbox row waits until the
  first moment inside the city's text hours that is at least `delay` after the closing.
- One question per number per closing: the linked reports closed with a case share its
  closing event, and (closing_event_id, phone) is unique. A case closed again after being
  reopened is a new closing and is asked about again (that is how a second "no" is found).
- Never queued for a number that opted out (the worker also refuses them at send time), nor
  for a reporter who did not ask for texts (`Case.updates_wanted`: callers who declined).
- The question names the place at block level ("100 block of Elm Street") whatever the
  service's public policy: a text may be read by others.
- A check waits for its answer for `answer_window` after its text went out; then it expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from cases.conversations import is_opted_out
from cases.db import plain_rows
from cases.enums import CaseStatus, Resolution
from cases.models import Case, CaseEvent, FixCheck, OutboundMessage
from cases.outbox import GIVE_UP_AFTER, enqueue_sms
from cases.public import PublicPolicy, public_place
from wording import Wording

REASON = "fix_check"  # the outbox reason of the questions
RETRY_SPAN = timedelta(hours=1)  # a question is sent at least this long before the hours end
WHOLE_DAY = (0, 24 * 60)
SENT = ("sent", "dry_run")  # a dry run (development) counts, so `make chat` can answer
ANSWERS = ("yes", "no", "partly")
STATUSES = ("asked", "rating", "done", "expired", "cancelled")


@dataclass(frozen=True)
class FixCheckRules:
    """When to ask and how long an answer counts (built from settings in runtime.py)."""

    timezone: str = "America/New_York"
    hours: tuple[int, int] = (9 * 60, 20 * 60)  # local minutes of the day texts may go out
    delay: timedelta = timedelta(hours=2)  # after the closing, at the earliest
    answer_window: timedelta = timedelta(days=7)  # after the question went out

    def __post_init__(self) -> None:
        start, end = self.hours
        if not 0 <= start < end <= 24 * 60 or timedelta(minutes=end - start) <= RETRY_SPAN:
            raise ValueError(f"text hours {self.hours} must be more than an hour within one day")

    def ask_time(self, closed_at: datetime) -> tuple[datetime, datetime]:
        """(send at, give up at), UTC: the first daytime moment `delay` after the closing.

        The question goes out no later than RETRY_SPAN before the hours end, and its retries
        stop when they end, so nobody is texted at night even when Twilio is down.
        """
        earliest = closed_at + self.delay
        if self.hours == WHOLE_DAY:
            return earliest, earliest + GIVE_UP_AFTER
        zone = ZoneInfo(self.timezone)
        local = earliest.astimezone(zone)
        day = local.date()
        while True:
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            opens = midnight + timedelta(minutes=self.hours[0])  # wall-clock arithmetic
            closes = midnight + timedelta(minutes=self.hours[1])
            if local <= closes - RETRY_SPAN:
                return max(local, opens).astimezone(UTC), closes.astimezone(UTC)
            day += timedelta(days=1)


def question(wording: Wording, case: Case, language: str, policy: PublicPolicy) -> str:
    """'Riverton 311: Was the pothole at 100 block of Elm Street fixed? Reply 1 Yes, ...'."""
    place, _, _ = public_place(case, replace(policy, sensitive=True))  # block level, always
    service = wording.service_name(case.service_code, language) or case.service_name
    where = wording.text("AT_PLACE", "sms", language, address=place) if place else ""
    return wording.text(
        "FIX_CHECK_QUESTION",
        "sms",
        language,
        service=service.lower(),
        where=where,
        number=case.service_request_id,
    )


def queue_checks(
    *,
    db_session: Session,
    cases: list[Case],
    closing: CaseEvent,
    wording: Wording,
    policy: Callable[[str], PublicPolicy] | None = None,
    rules: FixCheckRules,
    now: datetime,
) -> list[FixCheck]:
    """Queue the question for each reporter of these cases closed as fixed, once per number.

    `cases` is the closed case first, then the linked reports closed with it: a number that
    reported several of them is asked about the first.
    """
    send_at, give_up_at = rules.ask_time(now)
    asked = set(
        db_session.scalars(select(FixCheck.phone).where(FixCheck.closing_event_id == closing.id))
    )
    made = []
    for case in cases:
        phone = case.contact_phone
        if (
            not phone
            or phone in asked
            or not case.updates_wanted
            or case.status != CaseStatus.CLOSED
            or case.resolution != Resolution.FIXED
        ):
            continue
        asked.add(phone)
        if is_opted_out(db_session=db_session, phone=phone):
            continue
        shown = policy(case.service_code) if policy else PublicPolicy()
        language = wording.language(case.language)
        message = enqueue_sms(
            db_session=db_session,
            to=phone,
            body=question(wording, case, language, shown)[:1200],
            reason=REASON,
            case_id=case.id,
            now=now,
            send_at=send_at,
            give_up_at=give_up_at,
        )
        check = FixCheck(
            case_id=case.id,
            closing_event_id=closing.id,
            phone=phone,
            language=language,
            outbound_message_id=message.id,
            created_at=now,
            ask_at=send_at,
            status="asked",
        )
        db_session.add(check)
        db_session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor_name="outbox",
                kind="fix_check",
                notes=f"'was it fixed?' to the resident queued for {send_at:%Y-%m-%d %H:%M} UTC",
            )
        )
        made.append(check)
    db_session.flush()
    return made


# ------------------------------------------------------------------ answers
# Asked on every text a resident sends while idle: built once, so its compiled SQL is reused.
WAITING = (
    select(FixCheck, OutboundMessage.status, OutboundMessage.sent_at)
    .outerjoin(OutboundMessage, OutboundMessage.id == FixCheck.outbound_message_id)
    .where(FixCheck.phone == bindparam("phone"), FixCheck.status.in_(("asked", "rating")))
)


# Nearly every number has none: this plain-row check spares those texts the ORM's object load.
ANY_WAITING = (
    select(FixCheck.id)
    .where(FixCheck.phone == bindparam("phone"), FixCheck.status.in_(("asked", "rating")))
    .limit(1)
)


def waiting(*, db_session: Session, phone: str, now: datetime, window: timedelta) -> list[FixCheck]:
    """This number's checks waiting for an answer or a rating, the latest question first.

    A question counts once its text went out, for `window`; older ones (and questions the
    outbox gave up on) are marked expired here.
    """
    if plain_rows(db_session, ANY_WAITING, {"phone": phone}, model=FixCheck).first() is None:
        return []
    rows = db_session.execute(WAITING, {"phone": phone}).all()
    found: list[tuple[datetime, int, FixCheck]] = []
    for check, sent, sent_at in rows:
        if check.status == "rating":
            if check.answered_at and check.answered_at > now - window:
                found.append((check.answered_at, check.id, check))
            else:
                check.status = "done"
        elif sent in SENT and sent_at is not None:
            if sent_at > now - window:
                found.append((sent_at, check.id, check))
            else:
                check.status = "expired"
        elif sent == "failed" or check.ask_at < now - window:
            check.status = "expired"
    found.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [check for _, _, check in found]


def _move(db_session: Session, check: FixCheck, was: str, **values: object) -> bool:
    """Change a check only if it is still in status `was` (a conditional UPDATE), so two
    workers handling two texts of one resident at once cannot both act on one answer."""
    done = db_session.execute(
        update(FixCheck)
        .where(FixCheck.id == check.id, FixCheck.status == was)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db_session.refresh(check)
    return bool(done)


def record_answer(db_session: Session, check: FixCheck, answer: str, now: datetime) -> bool:
    """Keep the answer (a yes is then asked for a rating); False if it was answered already."""
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {ANSWERS}")
    status = "rating" if answer == "yes" else "done"
    return _move(db_session, check, "asked", answer=answer, answered_at=now, status=status)


def record_rating(db_session: Session, check: FixCheck, rating: int | None, now: datetime) -> bool:
    """Keep a 1-5 rating (None: skipped); False if the rating question was over already."""
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    rated_at = now if rating is not None else None
    return _move(db_session, check, "rating", rating=rating, rated_at=rated_at, status="done")


def cancel_unsent(*, db_session: Session, case: Case) -> int:
    """The case is open again: questions about its closings that have not gone out never will.

    Covers the linked reports closed with it (they share its closing). A question the worker
    has already claimed is left to go; its answer then finds the case open.
    """
    closings = select(CaseEvent.id).where(CaseEvent.case_id == case.id)
    unsent = db_session.scalars(
        select(FixCheck).where(FixCheck.closing_event_id.in_(closings), FixCheck.status == "asked")
    ).all()
    cancelled = 0
    for check in unsent:
        message_id, check.outbound_message_id = check.outbound_message_id, None
        db_session.flush()  # the reference goes before the message can
        gone = db_session.execute(
            delete(OutboundMessage)
            .where(
                OutboundMessage.id == message_id,
                OutboundMessage.status == "pending",
                OutboundMessage.attempts == 0,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if gone:
            check.status = "cancelled"
            cancelled += 1
        else:  # already claimed by the worker: it goes, and keeps its check
            check.outbound_message_id = message_id
    db_session.flush()
    return cancelled
