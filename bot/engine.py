"""One turn of a conversation: load state, understand, decide, save state and reply, atomically."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import keywords, messages
from bot.catalog import Catalog, Service
from bot.knowledge import KnowledgeBase
from bot.locations import Location, StreetDirectory
from bot.redact import redact
from cases import conversations
from cases.models import Case, Conversation, utcnow
from cases.models import Turn as TurnRow
from cases.service import create_case, find_case_number, get_case
from nlu.client import FALLBACK_INTENT, NLU, NLUError, Parse

CONFIDENT = 0.6  # what a mid-report message needs to switch to a handoff
SHORT_DESCRIPTION_WORDS = 8  # a first message shorter than this gets the description question
MAX_TRIES = 3  # failed answers to one question before a human takes over


@dataclass(frozen=True)
class Turn:
    """A channel-neutral inbound message."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    asr_confidence: float | None = None


@dataclass(frozen=True)
class Reply:
    """What the bot answers, and what happened."""

    text: str
    kind: str
    case_number: str | None = None
    replayed: bool = False

    @property
    def handoff(self) -> bool:
        """Whether this reply handed the conversation to a human."""
        return self.kind == "handoff"


@dataclass
class _Ctx:
    conversation: Conversation
    text: str
    parse: Parse | None
    now: datetime
    turn: Turn
    state: dict[str, Any]
    case: Case | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> str | None:
        return self.parse.intent if self.parse else None

    def confident(self, intent: str) -> bool:
        return bool(
            self.parse and self.parse.intent == intent and self.parse.confidence >= CONFIDENT
        )


class Engine:
    """The dialogue engine, driven by the service catalogue and the knowledge base."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        kb: KnowledgeBase,
        streets: StreetDirectory,
        nlu: NLU,
        city_name: str = "Riverton",
        city_phone: str = "311",
        conversation_timeout: timedelta = timedelta(minutes=30),
        clock: Callable[[], datetime] = utcnow,
    ):
        self.catalog = catalog
        self.kb = kb
        self.streets = streets
        self.nlu = nlu
        self.city = city_name
        self.phone = city_phone
        self.timeout = conversation_timeout
        self.clock = clock

    # ---------------------------------------------------------------- the turn
    def handle(self, turn: Turn, *, db_session: Session) -> Reply:
        """Handle one message in one transaction; a repeated message id replays its reply."""
        text = redact(turn.text or "").strip()
        if turn.message_id and (
            stored := conversations.find_turn(db_session=db_session, message_id=turn.message_id)
        ):
            return self._replay(stored)
        keyword = keywords.compliance_keyword(text) if turn.channel == "sms" else None
        if (
            keyword == "opt_in"
            and keywords.normalise(text) == "yes"
            and not conversations.is_opted_out(db_session=db_session, phone=turn.sender)
        ):
            keyword = None  # a plain "yes" from a subscribed resident is an answer, not a keyword
        db_session.commit()  # release the read transaction before the (slow) NLU call
        emergency = keywords.looks_like_emergency(text)
        parse, nlu_error = None, None
        if keyword is None and not emergency and text:
            try:
                parse = self.nlu.parse(text)
            except NLUError as exc:
                nlu_error = str(exc)
        for attempt in range(3):
            try:
                with db_session.begin():
                    return self._turn(turn, text, keyword, emergency, parse, nlu_error, db_session)
            except IntegrityError:
                # Another worker stored this message id first (a Twilio retry): replay its
                # reply. Otherwise it opened this sender's conversation first: try again.
                db_session.rollback()
                stored = turn.message_id and conversations.find_turn(
                    db_session=db_session, message_id=turn.message_id
                )
                db_session.rollback()
                if stored:
                    return self._replay(stored)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _turn(
        self,
        turn: Turn,
        text: str,
        keyword: str | None,
        emergency: bool,
        parse: Parse | None,
        nlu_error: str | None,
        db_session: Session,
    ) -> Reply:
        now = self.clock()
        conv = conversations.open_conversation(
            db_session=db_session,
            channel=turn.channel,
            sender=turn.sender,
            now=now,
            timeout=self.timeout,
        )
        ctx = _Ctx(conv, text, parse, now, turn, copy.deepcopy(conv.state or {}))
        if keyword:
            reply = self._compliance(ctx, keyword, db_session)
        elif emergency or ctx.intent == "emergency":
            ctx.state = {}
            reply = self._say(messages.EMERGENCY, "emergency")
        else:
            reply = self._decide(ctx, db_session)
        conv.state = ctx.state
        conv.last_activity_at = now
        db_session.add(
            TurnRow(
                conversation_id=conv.id,
                message_id=turn.message_id,
                channel=turn.channel,
                text=text,
                asr_confidence=turn.asr_confidence,
                intent=parse.intent if parse else None,
                confidence=parse.confidence if parse else None,
                entities=parse.entities if parse else [],
                nlu_error=nlu_error,
                reply=reply.text,
                reply_kind=reply.kind,
                received_at=now,
                replied_at=self.clock(),
                case_id=ctx.case.id if ctx.case else None,
            )
        )
        if keyword == "opt_out":
            conversations.close_conversation(conv, reason="opted_out", now=now)
        db_session.flush()
        return reply

    def _replay(self, stored: TurnRow) -> Reply:
        number = stored.case.service_request_id if stored.case else None
        return Reply(stored.reply, stored.reply_kind, case_number=number, replayed=True)

    def _say(self, template: str, kind: str, **values: Any) -> Reply:
        return Reply(template.format(city=self.city, phone=self.phone, **values), kind)

    # ------------------------------------------------------------ compliance
    def _compliance(self, ctx: _Ctx, keyword: str, db_session: Session) -> Reply:
        phone = ctx.turn.sender
        if keyword == "opt_out":
            ctx.state = {}
            conversations.set_opt_out(
                db_session=db_session,
                phone=phone,
                keyword=keywords.normalise(ctx.text),
                now=ctx.now,
            )
            return self._say(messages.OPT_OUT, "opt_out")
        if keyword == "opt_in":
            conversations.set_opt_out(db_session=db_session, phone=phone, keyword=None, now=ctx.now)
            return self._say(messages.OPT_IN, "opt_in")
        return self._say(messages.HELP, "help")

    # -------------------------------------------------------------- deciding
    def _decide(self, ctx: _Ctx, db_session: Session) -> Reply:
        conv, step = ctx.conversation, ctx.state.get("step")
        if conv.handoff_status == "waiting":
            if keywords.normalise(ctx.text) in keywords.BACK_TO_BOT:
                conv.handoff_status = "none"
                ctx.state = {}
                return self._say(messages.ANYTHING_ELSE, "menu")
            return self._say(messages.HOLDING, "holding")
        if ctx.confident("request_human"):
            return self._handoff(ctx, "requested")
        if step and keywords.is_cancel(ctx.text):
            ctx.state = {}
            return self._say(messages.CANCELLED, "cancelled")
        if step == "collecting":
            return self._collect(ctx)
        if step == "confirming":
            return self._confirm(ctx, db_session)
        if step == "awaiting_case":
            number = find_case_number(ctx.text)
            if number:
                ctx.state = {}
                return self._status(number, db_session)
            if ctx.intent in (None, FALLBACK_INTENT, "out_of_scope", "check_status", "affirm"):
                return self._retry(ctx, messages.ASK_CASE_AGAIN, "question")
            ctx.state = {}
        return self._idle(ctx, db_session)

    def _idle(self, ctx: _Ctx, db_session: Session) -> Reply:
        intent = ctx.intent
        if ctx.parse is None:
            return self._say(messages.NLU_DOWN, "nlu_unavailable")
        if intent in (None, FALLBACK_INTENT, "out_of_scope") or (
            intent not in self.catalog.by_intent
            and intent not in self.kb.by_intent
            and intent not in _SIMPLE
            and intent not in ("check_status", "request_human")
        ):
            misses = int(ctx.state.get("misses", 0)) + 1
            if misses >= 2:
                return self._handoff(ctx, "not_understood", messages.HANDOFF_AFTER_MISSES)
            ctx.state = {"misses": misses}
            return self._say(messages.REPROMPT, "reprompt")
        ctx.state = {}
        if intent == "request_human":
            return self._handoff(ctx, "requested")
        if intent in self.catalog.by_intent:
            return self._start_report(ctx, self.catalog.by_intent[intent])
        if intent in self.kb.by_intent:
            return Reply(self.kb.by_intent[intent].sms(), "answer")
        if intent == "check_status":
            number = (ctx.parse.entity("case_id") if ctx.parse else None) or ctx.text
            number = find_case_number(number) or find_case_number(ctx.text)
            if number:
                return self._status(number, db_session)
            ctx.state = {"step": "awaiting_case"}
            return self._say(messages.ASK_CASE_NUMBER, "question")
        template, kind = _SIMPLE[intent]
        return self._say(template, kind)

    def _handoff(self, ctx: _Ctx, reason: str, template: str = messages.HANDOFF) -> Reply:
        ctx.state = {}
        conversations.request_handoff(ctx.conversation, reason=reason, now=ctx.now)
        return self._say(template, "handoff")

    def _retry(self, ctx: _Ctx, template: str, kind: str, **values: Any) -> Reply:
        tries = int(ctx.state.get("tries", 0)) + 1
        if tries >= MAX_TRIES:
            return self._handoff(ctx, "stuck", messages.HANDOFF_AFTER_MISSES)
        ctx.state["tries"] = tries
        return self._say(template, kind, **values)

    def _status(self, number: str, db_session: Session) -> Reply:
        case = get_case(db_session=db_session, service_request_id=number)
        if case is None:
            return self._say(messages.CASE_UNKNOWN, "status_unknown", number=number)
        when = case.updated_datetime.strftime("%b %d, %Y")
        notes = case.status_notes or f"received; {case.agency_responsible} will follow up."
        where = f" at {case.address}" if case.address else ""
        return Reply(
            messages.CASE_STATUS.format(
                number=number,
                service=case.service_name,
                where=where,
                status=case.status,
                when=when,
                notes=notes,
            ),
            "status",
            case_number=number,
        )

    # ------------------------------------------------------ filing a report
    def _start_report(self, ctx: _Ctx, service: Service) -> Reply:
        slots: dict[str, Any] = {"first_text": ctx.text, "attributes": {}}
        found = self.streets.find(ctx.text, strict=True)
        if found.location:
            _put_location(slots, found.location)
        for attr in service.attributes:
            value = attr.values and _mention(attr, ctx.text)
            if value:
                slots["attributes"][attr.code] = value
        ctx.state = {"step": "collecting", "service": service.intent, "slots": slots}
        if found.unknown_street and not found.location:
            ctx.state["pending"] = "location"
            return self._say(messages.UNKNOWN_STREET, "question", street=found.unknown_street)
        return self._next(ctx, service)

    def _next(self, ctx: _Ctx, service: Service) -> Reply:
        """Ask the next missing thing, or read the report back for confirmation."""
        slots = ctx.state["slots"]
        ctx.state["tries"] = 0
        pending, question = self._missing(service, slots)
        if pending is None:
            ctx.state["step"] = "confirming"
            ctx.state.pop("pending", None)
            return Reply(messages.CONFIRM.format(summary=_summary(service, slots)), "confirm")
        ctx.state["pending"] = pending
        return Reply(question, "question")

    def _missing(self, service: Service, slots: dict[str, Any]) -> tuple[str | None, str]:
        if not slots.get("street"):
            return "location", service.location_prompt
        if not slots.get("precise") and not slots.get("precision_skipped"):
            if service.location_kind == "building" and not slots.get("number"):
                return "precision", messages.ASK_PRECISION_BUILDING.format(street=slots["street"])
            if service.location_kind == "street":
                return "precision", messages.ASK_PRECISION_STREET.format(street=slots["street"])
        if service.location_kind == "building" and not slots.get("number"):
            return "precision", messages.ASK_PRECISION_BUILDING.format(street=slots["street"])
        if (
            service.needs_description
            and not slots.get("description")
            and len(slots["first_text"].split()) < SHORT_DESCRIPTION_WORDS
        ):
            return "description", service.description_prompt or ""
        for attr in service.attributes:
            if attr.required and attr.code not in slots["attributes"]:
                return f"attr:{attr.code}", attr.question()
        return None, ""

    def _collect(self, ctx: _Ctx) -> Reply:
        service = self.catalog.by_intent[ctx.state["service"]]
        slots, pending = ctx.state["slots"], ctx.state.get("pending", "")
        if pending == "location":
            found = self.streets.find(ctx.text, strict=False)
            if not found.location:
                street = found.unknown_street or ctx.text
                return self._retry(ctx, messages.UNKNOWN_STREET, "question", street=street[:60])
            _put_location(slots, found.location)
        elif pending == "precision":
            if keywords.is_skip(ctx.text) and service.location_kind == "street":
                slots["precision_skipped"] = True
            elif not self._refine_location(slots, ctx.text):
                question = self._missing(service, slots)[1]
                return self._retry(ctx, messages.ASK_AGAIN, "question", question=question)
        elif pending == "description":
            slots["description"] = ctx.text
        elif pending.startswith("attr:"):
            attr = service.attribute(pending[5:])
            if attr.values:
                value = attr.find_value(ctx.text)
                if value is None:
                    return self._retry(
                        ctx, messages.ANSWER_CHOICES, "question", question=attr.question()
                    )
                slots["attributes"][attr.code] = value.key
            elif ctx.text:
                slots["attributes"][attr.code] = ctx.text
        return self._next(ctx, service)

    def _refine_location(self, slots: dict[str, Any], text: str) -> bool:
        """Add a house number or cross street to a street-only location."""
        street = self.streets.match_name(slots["street"])
        found = self.streets.find(text, strict=True).location
        number = re.search(r"\b\d{1,6}[a-z]?\b", keywords.normalise(text))
        if found is None and number is None:
            found = self.streets.find(text, strict=False).location
        if found is not None and found.precise:
            _put_location(slots, found)
        elif found is not None and street and found.street != street:
            _put_location(slots, Location(street, cross=found.street))
        elif number and street:
            _put_location(slots, Location(street, number=number.group(0)))
        else:
            return False
        return True

    def _confirm(self, ctx: _Ctx, db_session: Session) -> Reply:
        service = self.catalog.by_intent[ctx.state["service"]]
        if keywords.is_yes(ctx.text) or ctx.intent == "affirm":
            return self._file(ctx, service, db_session)
        if keywords.is_no(ctx.text) or ctx.intent == "deny":
            ctx.state = {}
            return self._say(messages.CANCELLED, "cancelled")
        return self._retry(ctx, messages.CONFIRM_AGAIN, "confirm")

    def _file(self, ctx: _Ctx, service: Service, db_session: Session) -> Reply:
        slots = ctx.state["slots"]
        description = slots["first_text"]
        if slots.get("description"):
            description = f"{description}\n{slots['description']}"
        case = create_case(
            db_session=db_session,
            service_code=service.service_code,
            service_name=service.service_name,
            agency_responsible=service.agency,
            description=description[:4000],
            source=ctx.turn.channel,
            address=slots.get("address"),
            lat=slots.get("lat"),
            long=slots.get("long"),
            attributes=dict(slots["attributes"]),
            expected_days=service.expected_days or None,
            service_notice=service.next_steps,
            contact_phone=ctx.turn.sender,
            conversation_id=ctx.conversation.id,
            now=ctx.now,
        )
        ctx.case = case
        ctx.state = {}
        number = case.service_request_id
        text = messages.FILED.format(
            number=number,
            service=service.service_name,
            agency=service.agency,
            next_steps=service.next_steps,
        )
        return Reply(text, "filed", case_number=number)


_SIMPLE = {
    "greet": (messages.GREETING, "greeting"),
    "help": (messages.MENU, "menu"),
    "thank_you": (messages.THANKS, "closing"),
    "goodbye": (messages.GOODBYE, "closing"),
    "affirm": (messages.ANYTHING_ELSE, "menu"),
    "deny": (messages.ANYTHING_ELSE, "menu"),
}


def _mention(attr: Any, text: str) -> str | None:
    from bot.catalog import mention

    value = mention(attr.values, text)
    return value.key if value else None


def _put_location(slots: dict[str, Any], loc: Location) -> None:
    slots.update(
        street=loc.street.name,
        number=loc.number,
        cross=loc.cross.name if loc.cross else None,
        address=loc.address,
        lat=loc.lat,
        long=loc.long,
        precise=loc.precise,
    )


def _summary(service: Service, slots: dict[str, Any]) -> str:
    parts = [f"{service.service_name} at {slots['address']}."]
    for attr in service.attributes:
        key = slots["attributes"].get(attr.code)
        if key is None:
            continue
        name = next((v.name for v in attr.values if v.key == key), key)
        parts.append(f"{attr.code.replace('_', ' ').capitalize()}: {name}.")
    details = slots.get("description") or slots["first_text"]
    parts.append(f'Details: "{details[:160]}"')
    return " ".join(parts)
