"""Making a report: fill the service's slots, take corrections at any step, read back, file."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot import corrections, keywords
from bot.catalog import Catalog, Service, mention
from bot.dialogue import CONFIDENT, Dialogue, Reply
from bot.knowledge import KnowledgeBase
from bot.locations import Location, StreetDirectory, address_text
from bot.report_answers import (
    attribute_question,
    mentioned_attributes,
    mentioned_unit,
    put_location,
    said_cancel,
    summary,
    yes_no,
)
from bot.spoken import spell_digits
from bot.state import Report, Slot, Step
from cases import conversations, notices, photos
from cases.deadlines import default_calendar
from cases.outbox import enqueue_sms
from cases.public import case_link
from cases.service import case_number, create_case, get_case

SHORT_DESCRIPTION_WORDS = 8  # a first message shorter than this gets the description question
CROSS_STREET = re.compile(
    r"\b(cross ?street|cross st|corner (of|with)|intersection"
    r"|esquina|cruce|entre|que (la )?cruza)\b"
)
HOUSE_NUMBER = re.compile(r"\b\d{1,6}[a-z]?\b")
SERVICE_AND_PLACE = 0.7  # a service change in a message that also changes the place
MORE_DETAIL = re.compile(r"^(also|add|plus|and also|note|details?|one more thing)\b")


class ReportFlow:
    """Slot filling driven by the catalogue: ask only what is missing, change what is corrected."""

    def __init__(
        self, *, catalog: Catalog, streets: StreetDirectory, kb: KnowledgeBase, language: str = "en"
    ):
        self.base = catalog  # English: what cases store and staff read
        self.catalog = catalog.localized(language)  # what the resident reads and hears
        self.streets = streets
        self.kb = kb.localized(language)
        self.language = language

    # ----------------------------------------------------------- starting
    def start(self, d: Dialogue, service: Service) -> Reply:
        """A new report from its first message: take whatever it already says."""
        lang = self.language
        report = Report(service=service.intent, first_text=d.text.strip()[:1000])
        found = self.streets.find(address_text(d.text, language=lang), strict=True, language=lang)
        if found.location:
            put_location(report, found.location)
        mentioned_attributes(
            service, report, self.streets.without_streets(d.text, language=lang), lang
        )
        d.state.reset()
        d.state.step, d.state.report = Step.COLLECTING, report
        if found.unknown_street and not found.location:
            d.state.pending = Slot.LOCATION
            return d.say("UNKNOWN_STREET", "question", street=found.unknown_street)
        return self.next(d)

    def next(self, d: Dialogue) -> Reply:
        """Ask the next missing thing, or read the report back for confirmation."""
        state = d.state
        assert state.report is not None
        service = self.catalog.by_intent[state.report.service]
        state.tries = 0
        slot, attribute, question = self.missing(d, service, state.report)
        state.pending, state.attribute = slot, attribute
        if slot is None:
            state.step = Step.CONFIRMING
            return d.say("CONFIRM", "confirm", summary=summary(d, service, state.report))
        state.step = Step.COLLECTING
        return Reply(question, "question")

    def missing(
        self, d: Dialogue, service: Service, report: Report
    ) -> tuple[Slot | None, str | None, str]:
        """The first slot still empty, the attribute it is (if one), and its question."""
        if not report.street:
            prompt = d.words("LOCATION") if d.voice else service.location_prompt
            return Slot.LOCATION, None, prompt
        if service.location_kind == "building" and not report.number:
            return Slot.PRECISION, None, d.words("ASK_PRECISION_BUILDING", street=report.street)
        if not report.precise and not report.precision_skipped:
            return Slot.PRECISION, None, d.words("ASK_PRECISION_STREET", street=report.street)
        if (
            service.needs_description
            and not report.description
            and len(report.first_text.split()) < SHORT_DESCRIPTION_WORDS
        ):
            return Slot.DESCRIPTION, None, service.description_prompt or ""
        for attr in service.attributes:
            if attr.required and attr.code not in report.attributes:
                return Slot.ATTRIBUTE, attr.code, attribute_question(d, attr)
        return None, None, ""

    # ----------------------------------------------------------- answers
    def collect(self, d: Dialogue) -> Reply:
        """An answer to the question asked, a change to an earlier one, or something else."""
        lang = self.language
        state = d.state
        report = state.report
        assert report is not None
        service = self.catalog.by_intent[report.service]
        if self.correct(d, service, report, confirming=False):
            return self.next(d)
        if (aside := self.aside(d)) is not None:
            return aside
        if state.pending != Slot.DESCRIPTION and said_cancel(d) and not self.fits(d, report):
            return self.cancel(d)
        if state.pending == Slot.LOCATION:
            found = self.streets.find(
                address_text(d.text, language=lang), strict=False, language=lang
            )
            if not found.location:
                street = (found.unknown_street or d.text)[:60]
                return d.retry("UNKNOWN_STREET", "question", street=street)
            put_location(report, found.location)
        elif state.pending == Slot.PRECISION:
            if keywords.is_skip(d.text, language=lang) and service.location_kind == "street":
                report.precision_skipped = True
            elif not self.refine_location(report, d.text):
                question = self.missing(d, service, report)[2]
                return d.retry("ASK_AGAIN", "question", question=question)
        elif state.pending == Slot.DESCRIPTION:
            report.description = d.text.strip()[:1000]
        elif state.pending == Slot.ATTRIBUTE and state.attribute:
            attr = service.attribute(state.attribute)
            if attr.values:
                value = attr.find_value(
                    corrections.without_negated(d.text, language=lang) or d.text
                )
                if value is None:
                    value = attr.find_value(d.text)
                if value is None:
                    asked = attribute_question(d, attr)
                    return d.retry("ANSWER_CHOICES", "question", question=asked)
                report.attributes[attr.code] = value.key
            elif d.text:
                report.attributes[attr.code] = d.text[:200]
        mentioned_unit(service, report, d.text, lang)
        return self.next(d)

    def aside(self, d: Dialogue) -> Reply | None:
        """A question asked in the middle of a report: answer it, then ask again."""
        lang = self.language
        intent = d.intent
        if intent not in self.kb.by_intent or not d.confident(str(intent)):
            return None
        if d.state.pending == Slot.DESCRIPTION and not corrections.is_question(
            d.text, language=lang
        ):
            return None
        answer = self.kb.by_intent[str(intent)]
        again = self.next(d).text
        said = d.answer(answer)
        return Reply(d.words("ASIDE", answer=said, question=again), "answer")

    def refine_location(self, report: Report, text: str) -> bool:
        """Add a house number or cross street to a street-only location."""
        lang = self.language
        text = address_text(text, language=lang)
        street = self.streets.match_name(report.street or "")
        found = self.streets.find(text, strict=True, language=lang).location
        number = HOUSE_NUMBER.search(keywords.normalise(text))
        if found is None and number is None:
            found = self.streets.find(text, strict=False, language=lang).location
        if found is not None and found.precise:
            put_location(report, found)
        elif found is not None and street and found.street != street:
            put_location(report, Location(street, cross=found.street))
        elif number and street:
            put_location(report, Location(street, number=number.group(0)))
        else:
            return False
        return True

    # ----------------------------------------------------------- corrections
    def correct(self, d: Dialogue, service: Service, report: Report, *, confirming: bool) -> bool:
        """Apply a change to a slot already filled; True when something changed."""
        lang = self.language
        text, marked = d.text, corrections.is_correction(d.text, language=lang) or confirming
        if not marked:
            return False
        changed = self._correct_place(report, text, d.state.pending)
        if (
            not changed
            and report.street
            and (number := corrections.corrected_number(text, language=lang))
        ):
            street = self.streets.match_name(report.street)
            if street is not None:
                put_location(report, Location(street, number=number))
                changed = True
        changed = self._correct_service(d, report, place_changed=changed) or changed
        service = self.catalog.by_intent[report.service]
        cleaned = corrections.without_negated(
            self.streets.without_streets(text, language=lang), language=lang
        )
        for attr in service.attributes:
            if not attr.values or (attr.code == d.state.attribute and not confirming):
                continue
            value = mention(attr.values, cleaned)
            known = attr.code in report.attributes or confirming
            if value and known and report.attributes.get(attr.code) != value.key:
                report.attributes[attr.code] = value.key
                changed = True
        if confirming and (more := MORE_DETAIL.match(corrections.words(text))):
            detail = text.strip()[more.end() :].strip(" :,.") or text.strip()
            report.description = f"{report.description or ''} {detail}".strip()[:1000]
            changed = True
        return changed

    def _correct_place(self, report: Report, text: str, pending: Slot | None) -> bool:
        if pending == Slot.LOCATION or not report.street:
            return False
        lang = self.language
        place = corrections.without_negated(address_text(text, language=lang), language=lang)
        found = self.streets.find(place, strict=True, language=lang).location
        if found is None:
            return False
        street = self.streets.match_name(report.street)
        if CROSS_STREET.search(place) and street and found.street != street and not found.number:
            put_location(report, Location(street, cross=found.street))
            return True
        if found.street.name != report.street:
            marked = corrections.is_correction(text, language=lang)
            if pending == Slot.PRECISION and not found.precise and not marked:
                return False  # "Main St" asked for a cross street is the answer, not a change
            report.clear_place()
            put_location(report, found)
            return True
        if found.precise and found.address != report.address:
            put_location(report, found)
            return True
        return False

    def _correct_service(self, d: Dialogue, report: Report, *, place_changed: bool) -> bool:
        """Another service named confidently (more surely when the message also moved the place:
        "I meant 60 Pine St, not Elm" is about the place, whatever the NLU guesses)."""
        intent = d.intent
        sure = SERVICE_AND_PLACE if place_changed else CONFIDENT
        if (
            intent is None
            or intent == report.service
            or intent not in self.catalog.by_intent
            or d.parse is None
            or d.parse.confidence < sure
        ):
            return False
        report.service = intent
        report.attributes = {}
        text = self.streets.without_streets(d.text, language=self.language)
        mentioned_attributes(self.catalog.by_intent[intent], report, text, self.language)
        return True

    # ----------------------------------------------------------- read-back and filing
    def confirm(self, d: Dialogue, db_session: Session) -> Reply:
        """YES files, NO cancels, a change is applied and read back again."""
        report = d.state.report
        assert report is not None
        service = self.catalog.by_intent[report.service]
        answer = yes_no(d)
        if d.state.notice is not None and keywords.is_file_anyway(d.text, language=d.language):
            answer = True  # told the problem is known, the resident files it all the same
        if answer is True:
            return self.file(d, service, db_session)
        if self.correct(d, service, report, confirming=True):
            reply = self.next(d)
            return Reply(f"{d.words('CHANGED')} {reply.text}", reply.kind)
        if answer is False or said_cancel(d):
            return self.cancel(d)
        if (aside := self.aside(d)) is not None:
            return aside
        return d.retry("CONFIRM_AGAIN", "confirm")

    def cancel(self, d: Dialogue) -> Reply:
        """Drop the report: nothing is filed."""
        d.state.reset()
        return d.say("CANCELLED", "cancelled")

    def fits(self, d: Dialogue, report: Report) -> bool:
        """Whether the message answers the question asked (then it is not a cancellation)."""
        lang = self.language
        if d.state.pending == Slot.ATTRIBUTE and d.state.attribute:
            service = self.catalog.by_intent[report.service]
            return service.attribute(d.state.attribute).find_value(d.text) is not None
        place = address_text(d.text, language=lang)
        if d.state.pending == Slot.PRECISION and HOUSE_NUMBER.search(keywords.normalise(place)):
            return True  # "in front of 120" answers "where on Elm Street?"
        return self.streets.find(place, strict=False, language=lang).location is not None

    def file(self, d: Dialogue, service: Service, db_session: Session) -> Reply:
        """File the case in this turn's transaction and give its number."""
        report = d.state.report
        assert report is not None
        if d.state.notice is None and (known := self.known(d, service, db_session)):
            return known
        description = report.first_text
        if report.description:
            description = f"{description}\n{report.description}"
        canonical = self.base.by_code[service.service_code]  # staff and Open311 read English
        case = create_case(
            db_session=db_session,
            service_code=service.service_code,
            service_name=canonical.service_name,
            agency_responsible=service.agency,
            description=description[:4000],
            source=d.turn.channel,
            address=report.address,
            lat=report.lat,
            long=report.long,
            attributes=dict(report.attributes),
            expected_days=service.expected_days or None,
            acknowledge_hours=service.acknowledge_hours or None,
            calendar=self.base.calendar,
            service_notice=canonical.next_steps,
            contact_phone=d.turn.sender,
            conversation_id=conversations.stored(db_session, d.conversation).id,
            language=self.language,
            updates_wanted=not d.voice,  # a caller asks for texts by accepting the number's
            now=d.now,
        )
        d.case = case
        if d.state.photos:  # photos texted while the report was made go with the case
            photos.add_to_case(db_session=db_session, case=case, photo_ids=d.state.photos)
        number = str(case.service_request_id)
        note, original = "", None
        if case.duplicate_of:
            original = case_number(db_session=db_session, case_id=case.duplicate_of)
        if original:
            note = d.words("DUPLICATE_NOTE", number=spell_digits(original) if d.voice else original)
        d.state.reset()
        if d.voice:
            d.state.step, d.state.case = Step.OFFER_SMS, number
        elif note and original:  # "FOLLOW" next follows the known problem
            d.state.case = original
        next_steps = service.next_steps
        if case.due_datetime is not None:
            calendar = self.base.calendar or default_calendar()
            when = d.wording.date(calendar.local_day(case.due_datetime), d.language)
            next_steps = f"{next_steps} {d.words('FILED_DUE', date=when)}"
        reply = d.say(
            "FILED",
            "filed",
            number=spell_digits(number) if d.voice else number,
            service=service.service_name,
            agency=service.agency,
            next_steps=next_steps,
            duplicate=f"{note} " if note else "",
            link=case_link(d.wording.site, case),
        )
        return Reply(reply.text, "filed", case_number=number)

    def known(self, d: Dialogue, service: Service, db_session: Session) -> Reply | None:
        """A city notice already covers this problem here: say so and offer its updates.

        The report is kept (still confirming), so FILE (or yes) files it all the same and
        FOLLOW follows the notice's parent case instead.
        """
        report = d.state.report
        assert report is not None
        notice = notices.for_report(
            db_session=db_session,
            service_code=service.service_code,
            street=report.street,
            now=d.now,
        )
        number = notices.parent_number(db_session=db_session, notice=notice) if notice else None
        if notice is None or number is None:
            return None
        d.state.notice, d.state.case = notice.id, number
        return d.say(
            "NOTICE_KNOWN",
            "known",
            notice=notices.text_of(notice, self.language),
            number=spell_digits(number) if d.voice else number,
        )

    def offer_sms(self, d: Dialogue, db_session: Session) -> Reply:
        """After a call files a case: text the number to the caller if they say yes."""
        number = d.state.case or ""
        answer = yes_no(d)
        if answer is None:
            return d.retry("CONFIRM_AGAIN", "confirm")
        d.state.reset()
        if not answer:
            return d.say("SMS_DECLINED", "menu")
        case = get_case(db_session=db_session, service_request_id=number)
        if case is not None:
            case.updates_wanted = True  # the caller takes texts: status changes reach them too
            enqueue_sms(
                db_session=db_session,
                to=d.turn.sender,
                body=d.wording.text(
                    "CASE_NUMBER_SMS",
                    "sms",
                    d.language,
                    service=self.catalog.by_code[case.service_code].service_name.lower(),
                    where=d.wording.text("AT_PLACE", "sms", d.language, address=case.address)
                    if case.address
                    else "",
                    number=number,
                    link=case_link(d.wording.site, case),
                ),
                reason="case_number",
                conversation_id=conversations.stored(db_session, d.conversation).id,
                case_id=case.id,
                now=d.now,
            )
        return d.say("SMS_SENT", "sms_sent")
