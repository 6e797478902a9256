"""One turn of a conversation: load state, understand, decide, save state and reply, atomically."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import keywords, messages
from bot.catalog import CONVERSATION_INTENTS, Attribute, Catalog, Service, mention
from bot.knowledge import KnowledgeBase
from bot.locations import Location, StreetDirectory
from bot.spoken import spell_digits, words_to_digits
from cases import conversations
from cases.models import Case, Conversation, utcnow
from cases.models import Turn as TurnRow
from cases.outbox import enqueue_sms
from cases.redact import redact
from cases.service import create_case, find_case_number, get_case
from nlu.client import FALLBACK_INTENT, NLU, NLUError, Parse

CONFIDENT = 0.6  # what a mid-report message needs to switch to a handoff
SHORT_DESCRIPTION_WORDS = 8  # a first message shorter than this gets the description question
MAX_TRIES = 3  # failed answers to one question before a human takes over
MAX_NO_INPUT = 2  # silent or unclear voice turns before the keypad menu
OPERATOR_WORDS = {"operator", "agent", "representative", "a person", "person", "human"}
SIMPLE = {
    "greet": ("GREETING", "greeting"),
    "help": ("MENU", "menu"),
    "thank_you": ("THANKS", "closing"),
    "goodbye": ("GOODBYE", "closing"),
    "affirm": ("ANYTHING_ELSE", "menu"),
    "deny": ("ANYTHING_ELSE", "menu"),
}


# What a call does after a reply of each kind (texts have no such step).
CALL_ACTIONS = {"emergency": "hangup", "closing": "hangup", "handoff": "dial", "keypad": "keypad"}


def call_action(kind: str, channel: str) -> str | None:
    """The call step a reply of this kind takes on this channel (None: keep listening)."""
    return CALL_ACTIONS.get(kind) if channel == "voice" else None


@dataclass(frozen=True)
class Turn:
    """A channel-neutral inbound message (an SMS, or one spoken or keyed answer on a call)."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    asr_confidence: float | None = None
    digits: str | None = None
    call_sid: str | None = None


@dataclass(frozen=True)
class Reply:
    """What the bot answers, and what happened.

    action: None (wait for the next message), "hangup", "dial" (connect a person) or "keypad"
    (offer keypad input). keys: whether a keypad answer fits what was asked (calls).
    """

    text: str
    kind: str
    case_number: str | None = None
    replayed: bool = False
    action: str | None = None
    keys: bool = False


@dataclass
class _Ctx:
    conversation: Conversation
    text: str
    parse: Parse | None
    now: datetime
    turn: Turn
    state: dict[str, Any]
    case: Case | None = None

    @property
    def intent(self) -> str | None:
        return self.parse.intent if self.parse else None

    @property
    def voice(self) -> bool:
        return self.turn.channel == "voice"

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
        asr_min_confidence: float = 0.4,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.catalog = catalog
        self.kb = kb
        self.streets = streets
        self.nlu = nlu
        self.city = city_name
        self.phone = city_phone
        self.timeout = conversation_timeout
        self.asr_min_confidence = asr_min_confidence
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
        heard = self._heard(turn, text)
        parse, nlu_error = None, None
        if keyword is None and not emergency and heard and not turn.digits:
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
                if stored:
                    return self._replay(stored)
                db_session.rollback()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def start_call(self, *, call_sid: str, caller: str, db_session: Session) -> Reply:
        """A new phone call: its own conversation, and the welcome (idempotent per CallSid)."""
        with db_session.begin():
            conversations.open_call(
                db_session=db_session, call_sid=call_sid, caller=caller, now=self.clock()
            )
        return self._say_channel("voice", "WELCOME", "welcome")

    def end_call(
        self, *, call_sid: str, status: str, duration: int | None, db_session: Session
    ) -> Conversation | None:
        """Close a call's conversation with its duration and outcome (from Twilio's callback)."""
        with db_session.begin():
            conv = conversations.find_call(db_session=db_session, call_sid=call_sid)
            if conv is None or conv.status == "closed":
                return conv
            mid_report = (conv.state or {}).get("step") in {"collecting", "confirming"}
            reason = "hung_up_mid_report" if mid_report else status
            conversations.close_conversation(conv, reason=reason, now=self.clock())
            conv.duration_seconds = duration
            conv.state = {}
            return conv

    def _heard(self, turn: Turn, text: str) -> bool:
        """Whether there is something to understand (voice: clear enough speech, or keys)."""
        if turn.digits:
            return True
        if turn.channel != "voice":
            return bool(text)
        confident = turn.asr_confidence is None or turn.asr_confidence >= self.asr_min_confidence
        return bool(text) and confident

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
        if turn.call_sid:
            conv = conversations.open_call(
                db_session=db_session, call_sid=turn.call_sid, caller=turn.sender, now=now
            )
        else:
            conv = conversations.open_conversation(
                db_session=db_session,
                channel=turn.channel,
                sender=turn.sender,
                now=now,
                timeout=self.timeout,
            )
        understood = words_to_digits(text) if turn.channel == "voice" else text
        if turn.digits:
            understood = turn.digits
        ctx = _Ctx(conv, understood, parse, now, turn, copy.deepcopy(conv.state or {}))
        if keyword:
            reply = self._compliance(ctx, keyword, db_session)
        elif emergency or ctx.intent == "emergency":
            ctx.state = {}
            reply = self._say(ctx, "EMERGENCY", "emergency")
        elif not self._heard(turn, text) and parse is None:
            reply = self._no_input(ctx)
        else:
            ctx.state.pop("no_input", None)
            reply = self._decide(ctx, db_session)
        if ctx.voice and reply.kind in {"question", "confirm"}:
            ctx.state["last_question"] = reply.text
        conv.state = ctx.state
        conv.last_activity_at = now
        db_session.add(
            TurnRow(
                conversation_id=conv.id,
                message_id=turn.message_id,
                channel=turn.channel,
                text=text if not turn.digits else f"[keypad] {turn.digits}",
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
        pending = str(ctx.state.get("pending", ""))
        keys = (
            reply.kind == "keypad"
            or reply.kind == "confirm"
            or pending.startswith("attr:")
            or ctx.state.get("step") in {"awaiting_case", "offer_sms"}
        )
        return Reply(
            reply.text,
            reply.kind,
            case_number=reply.case_number,
            action=call_action(reply.kind, turn.channel),
            keys=keys,
        )

    def _replay(self, stored: TurnRow) -> Reply:
        number = stored.case.service_request_id if stored.case else None
        return Reply(
            stored.reply,
            stored.reply_kind,
            case_number=number,
            replayed=True,
            action=call_action(stored.reply_kind, stored.channel),
            keys=stored.channel == "voice",
        )

    def _say_channel(self, channel: str, name: str, kind: str, **values: Any) -> Reply:
        template = messages.text(name, channel)
        return Reply(template.format(city=self.city, phone=self.phone, **values), kind)

    def _say(self, ctx: _Ctx, name: str, kind: str, **values: Any) -> Reply:
        reply = self._say_channel(ctx.turn.channel, name, kind, **values)
        return Reply(reply.text, kind)

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
            return self._say(ctx, "OPT_OUT", "opt_out")
        if keyword == "opt_in":
            conversations.set_opt_out(db_session=db_session, phone=phone, keyword=None, now=ctx.now)
            return self._say(ctx, "OPT_IN", "opt_in")
        return self._say(ctx, "HELP", "help")

    # ------------------------------------------------------------- voice input
    def _no_input(self, ctx: _Ctx) -> Reply:
        """Silence or speech too unclear to act on: ask again, then offer the keypad."""
        misses = int(ctx.state.get("no_input", 0)) + 1
        ctx.state["no_input"] = misses
        if misses >= MAX_NO_INPUT:
            return self._say(ctx, "KEYPAD", "keypad")
        question = ctx.state.get("last_question") or messages.text("ANYTHING_ELSE", "voice")
        return self._say(ctx, "NO_INPUT", "no_input", question=question)

    def _keypad(self, ctx: _Ctx, db_session: Session) -> Reply | None:
        """Keypad presses outside a question: 1 report, 2 information, 0 operator."""
        digits = ctx.turn.digits or ""
        if digits == "0":
            return self._handoff(ctx, "operator")
        if ctx.state.get("step") or find_case_number(digits):
            return None  # an answer to the question asked (or a case number): handled as text
        if digits == "1":
            return self._say(ctx, "KEYPAD_REPORT", "question")
        if digits == "2":
            return self._say(ctx, "KEYPAD_INFO", "question")
        return self._say(ctx, "KEYPAD", "keypad")

    # -------------------------------------------------------------- deciding
    def _decide(self, ctx: _Ctx, db_session: Session) -> Reply:
        conv, step = ctx.conversation, ctx.state.get("step")
        if ctx.turn.digits and (reply := self._keypad(ctx, db_session)):
            return reply
        if conv.handoff_status == "taken" and not ctx.voice:
            return Reply("", "to_staff")  # a person is answering: the bot stays quiet
        if conv.handoff_status == "waiting" and not ctx.voice:
            if keywords.normalise(ctx.text) in keywords.BACK_TO_BOT:
                conv.handoff_status = "none"
                ctx.state = {}
                return self._say(ctx, "ANYTHING_ELSE", "menu")
            return self._say(ctx, "HOLDING", "holding")
        if ctx.confident("request_human") or (
            ctx.voice and keywords.normalise(ctx.text) in OPERATOR_WORDS
        ):
            return self._handoff(ctx, "requested")
        if step and keywords.is_cancel(ctx.text):
            ctx.state = {}
            return self._say(ctx, "CANCELLED", "cancelled")
        if step == "collecting":
            return self._collect(ctx)
        if step == "confirming":
            return self._confirm(ctx, db_session)
        if step == "offer_sms":
            return self._offer_sms(ctx, db_session)
        if step == "awaiting_case":
            number = find_case_number(ctx.text)
            if number:
                ctx.state = {}
                return self._status(ctx, number, db_session)
            if ctx.intent in (None, FALLBACK_INTENT, "out_of_scope", "check_status", "affirm"):
                return self._retry(ctx, "ASK_CASE_AGAIN", "question")
            ctx.state = {}
        return self._idle(ctx, db_session)

    def _idle(self, ctx: _Ctx, db_session: Session) -> Reply:
        intent = ctx.intent
        if ctx.parse is None:
            if ctx.voice:
                return self._handoff(ctx, "nlu_unavailable", "NLU_DOWN")
            return self._say(ctx, "NLU_DOWN", "nlu_unavailable")
        known = (
            intent in self.catalog.by_intent
            or intent in self.kb.by_intent
            or intent in CONVERSATION_INTENTS
        )
        entity = ctx.parse.entity("case_id") or ""  # Rasa's RegexEntityExtractor
        number = find_case_number(entity) or find_case_number(ctx.text)
        if number and (not known or intent in ("out_of_scope", "check_status")):
            ctx.state = {}
            return self._status(ctx, number, db_session)  # a case number says it all
        if not known or intent == "out_of_scope":
            misses = int(ctx.state.get("misses", 0)) + 1
            if misses >= 2:
                return self._handoff(ctx, "not_understood", "HANDOFF_AFTER_MISSES")
            ctx.state = {"misses": misses}
            return self._say(ctx, "REPROMPT", "reprompt")
        ctx.state = {}
        if intent == "request_human":
            return self._handoff(ctx, "requested")
        if intent in self.catalog.by_intent:
            return self._start_report(ctx, self.catalog.by_intent[intent])
        if intent in self.kb.by_intent:
            answer = self.kb.by_intent[intent]
            if ctx.voice:
                return self._say(ctx, "ANSWER_MORE", "answer", answer=answer.spoken)
            return Reply(answer.sms(), "answer")
        if intent == "check_status":
            ctx.state = {"step": "awaiting_case"}
            return self._say(ctx, "ASK_CASE_NUMBER", "question")
        if ctx.voice and intent in ("goodbye", "thank_you", "deny"):
            return self._say(ctx, "THANKS" if intent == "thank_you" else "GOODBYE", "closing")
        name, kind = SIMPLE[str(intent)]
        return self._say(ctx, name, kind)

    def _handoff(self, ctx: _Ctx, reason: str, name: str = "HANDOFF") -> Reply:
        ctx.state = {}
        conversations.request_handoff(ctx.conversation, reason=reason, now=ctx.now)
        return self._say(ctx, name, "handoff")

    def _retry(self, ctx: _Ctx, name: str, kind: str, **values: Any) -> Reply:
        tries = int(ctx.state.get("tries", 0)) + 1
        if tries >= MAX_TRIES:
            return self._handoff(ctx, "stuck", "HANDOFF_AFTER_MISSES")
        ctx.state["tries"] = tries
        return self._say(ctx, name, kind, **values)

    def _status(self, ctx: _Ctx, number: str, db_session: Session) -> Reply:
        case = get_case(db_session=db_session, service_request_id=number)
        said = spell_digits(number) if ctx.voice else number
        if case is None:
            return self._say(ctx, "CASE_UNKNOWN", "status_unknown", number=said)
        notes = case.status_notes or f"received; {case.agency_responsible} will follow up."
        reply = self._say(
            ctx,
            "CASE_STATUS",
            "status",
            number=said,
            service=case.service_name,
            where=f" at {case.address}" if case.address else "",
            status=case.status,
            when=case.updated_datetime.strftime("%b %d, %Y"),
            notes=notes,
        )
        return Reply(reply.text, "status", case_number=number)

    # ------------------------------------------------------ filing a report
    def _start_report(self, ctx: _Ctx, service: Service) -> Reply:
        slots: dict[str, Any] = {"first_text": ctx.turn.text.strip(), "attributes": {}}
        found = self.streets.find(ctx.text, strict=True)
        if found.location:
            _put_location(slots, found.location)
        for attr in service.attributes:
            value = mention(attr.values, ctx.text) if attr.values else None
            if value:
                slots["attributes"][attr.code] = value.key
        ctx.state = {"step": "collecting", "service": service.intent, "slots": slots}
        if found.unknown_street and not found.location:
            ctx.state["pending"] = "location"
            return self._say(ctx, "UNKNOWN_STREET", "question", street=found.unknown_street)
        return self._next(ctx, service)

    def _next(self, ctx: _Ctx, service: Service) -> Reply:
        """Ask the next missing thing, or read the report back for confirmation."""
        slots = ctx.state["slots"]
        ctx.state["tries"] = 0
        pending, question = self._missing(service, slots, ctx.turn.channel)
        if pending is None:
            ctx.state["step"] = "confirming"
            ctx.state.pop("pending", None)
            return self._say(ctx, "CONFIRM", "confirm", summary=_summary(service, slots))
        ctx.state["pending"] = pending
        return Reply(question, "question")

    def _missing(
        self, service: Service, slots: dict[str, Any], channel: str
    ) -> tuple[str | None, str]:
        def say(name: str, **values: Any) -> str:
            return messages.text(name, channel).format(city=self.city, **values)

        if not slots.get("street"):
            return "location", say("LOCATION") if channel == "voice" else service.location_prompt
        needs_number = service.location_kind == "building" and not slots.get("number")
        if needs_number:
            return "precision", say("ASK_PRECISION_BUILDING", street=slots["street"])
        if not slots.get("precise") and not slots.get("precision_skipped"):
            return "precision", say("ASK_PRECISION_STREET", street=slots["street"])
        if (
            service.needs_description
            and not slots.get("description")
            and len(slots["first_text"].split()) < SHORT_DESCRIPTION_WORDS
        ):
            return "description", service.description_prompt or ""
        for attr in service.attributes:
            if attr.required and attr.code not in slots["attributes"]:
                return f"attr:{attr.code}", _question(attr, channel)
        return None, ""

    def _collect(self, ctx: _Ctx) -> Reply:
        service = self.catalog.by_intent[ctx.state["service"]]
        slots, pending = ctx.state["slots"], ctx.state.get("pending", "")
        if pending == "location":
            found = self.streets.find(ctx.text, strict=False)
            if not found.location:
                street = (found.unknown_street or ctx.text)[:60]
                return self._retry(ctx, "UNKNOWN_STREET", "question", street=street)
            _put_location(slots, found.location)
        elif pending == "precision":
            if keywords.is_skip(ctx.text) and service.location_kind == "street":
                slots["precision_skipped"] = True
            elif not self._refine_location(slots, ctx.text):
                question = self._missing(service, slots, ctx.turn.channel)[1]
                return self._retry(ctx, "ASK_AGAIN", "question", question=question)
        elif pending == "description":
            slots["description"] = ctx.turn.text.strip() or ctx.text
        elif pending.startswith("attr:"):
            attr = service.attribute(pending[5:])
            if attr.values:
                value = attr.find_value(ctx.text)
                if value is None:
                    question = _question(attr, ctx.turn.channel)
                    return self._retry(ctx, "ANSWER_CHOICES", "question", question=question)
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

    def _yes_no(self, ctx: _Ctx) -> bool | None:
        if keywords.is_yes(ctx.text) or ctx.intent == "affirm" or ctx.turn.digits == "1":
            return True
        if keywords.is_no(ctx.text) or ctx.intent == "deny" or ctx.turn.digits == "2":
            return False
        return None

    def _confirm(self, ctx: _Ctx, db_session: Session) -> Reply:
        service = self.catalog.by_intent[ctx.state["service"]]
        answer = self._yes_no(ctx)
        if answer is True:
            return self._file(ctx, service, db_session)
        if answer is False:
            ctx.state = {}
            return self._say(ctx, "CANCELLED", "cancelled")
        return self._retry(ctx, "CONFIRM_AGAIN", "confirm")

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
        number = str(case.service_request_id)
        note = ""
        if case.duplicate_of and (original := db_session.get(Case, case.duplicate_of)):
            said = str(original.service_request_id)
            note = messages.text("DUPLICATE_NOTE", ctx.turn.channel).format(
                number=spell_digits(said) if ctx.voice else said
            )
        ctx.state = {"step": "offer_sms", "case": number} if ctx.voice else {}
        reply = self._say(
            ctx,
            "FILED",
            "filed",
            number=spell_digits(number) if ctx.voice else number,
            service=service.service_name,
            agency=service.agency,
            next_steps=service.next_steps,
            duplicate=f"{note} " if note else "",
        )
        return Reply(reply.text, "filed", case_number=number)

    def _offer_sms(self, ctx: _Ctx, db_session: Session) -> Reply:
        """After a call files a case: text the number to the caller if they say yes."""
        number = ctx.state.get("case", "")
        answer = self._yes_no(ctx)
        if answer is None:
            return self._retry(ctx, "CONFIRM_AGAIN", "confirm")
        ctx.state = {}
        if not answer:
            return self._say(ctx, "SMS_DECLINED", "menu")
        case = get_case(db_session=db_session, service_request_id=number)
        if case is not None:
            body = messages.CASE_NUMBER_SMS.format(
                city=self.city,
                service=case.service_name.lower(),
                where=f" at {case.address}" if case.address else "",
                number=number,
            )
            enqueue_sms(
                db_session=db_session,
                to=ctx.turn.sender,
                body=body,
                reason="case_number",
                conversation_id=ctx.conversation.id,
                case_id=case.id,
                now=ctx.now,
            )
        return self._say(ctx, "SMS_SENT", "sms_sent")


def _question(attr: Attribute, channel: str) -> str:
    """An attribute's question, with numbered choices by text, or said aloud on a call."""
    if channel != "voice" or not attr.values:
        return attr.question()
    names = [v.name.lower() for v in attr.values]
    said = ", ".join(names[:-1]) + f", or {names[-1]}"
    return f"{attr.description} You can say {said}. Or press 1 to {len(names)}."


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
