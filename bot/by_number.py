"""Replies about a filed case by its number: its status (STATUS 311-…) and FOLLOW."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.catalog import Catalog
from bot.dialogue import Dialogue, Reply
from bot.spoken import spell_digits
from cases import updates
from cases.enums import CaseStatus
from cases.public import public_request
from cases.service import find_case_number, get_case


def follow(d: Dialogue, db_session: Session) -> Reply:
    """FOLLOW [case]: updates of a case (by default the known problem just linked to)."""
    number = find_case_number(d.text) or d.state.case
    if not number:
        return d.say("FOLLOW_WHICH", "question")
    case = get_case(db_session=db_session, service_request_id=number)
    if case is None:
        return d.say("CASE_UNKNOWN", "status_unknown", number=number)
    if not updates.may_follow(db_session=db_session, case=case, phone=d.turn.sender):
        d.state.case = None
        return d.say("FOLLOW_LIMIT", "following", max=updates.MAX_FOLLOWING)
    added = updates.follow(
        db_session=db_session,
        case=case,
        phone=d.turn.sender,
        language=d.language,
        now=d.now,
    )
    d.state.case = None
    if d.state.notice is not None:  # following the known problem instead of reporting it
        d.state.reset()
    return d.say("FOLLOWING" if added else "ALREADY_FOLLOWING", "following", number=number)


def status(d: Dialogue, number: str, db_session: Session, catalog: Catalog) -> Reply:
    """A case's status; its reporter hears their own address, anyone else the public view."""
    case = get_case(db_session=db_session, service_request_id=number)
    said = spell_digits(number) if d.voice else number
    if case is None:
        return d.say("CASE_UNKNOWN", "status_unknown", number=said)
    service = catalog.localized(d.language).by_code.get(case.service_code)
    if case.contact_phone and case.contact_phone == d.turn.sender:
        where, notes = case.address, case.status_notes  # the reporter's own case
    else:  # anyone can text a case number: they get what the public may see
        shown = public_request(case, catalog.policy(case.service_code))
        where, notes = shown["address"], shown["status_notes"]
    reply = d.say(
        "CASE_STATUS",
        "status",
        number=said,
        service=service.service_name if service else case.service_name,
        where=d.words("AT_PLACE", address=where) if where else "",
        status=d.words("STATUS_OPEN")  # "is open" reads better than "is received"
        if case.status == CaseStatus.RECEIVED
        else updates.status_words(d.wording, case, d.turn.channel, d.language),
        when=d.wording.date(case.updated_datetime, d.language),
        notes=notes or d.words("CASE_RECEIVED", agency=case.agency_responsible),
    )
    return Reply(reply.text, "status", case_number=number)
