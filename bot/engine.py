"""One turn of a conversation: load state, understand, decide, save state and reply, atomically."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import by_number, calls, corrections, danger_check, intents, keywords, notices
from bot.catalog import CONVERSATION_INTENTS, Catalog
from bot.dialogue import Dialogue, Reply, Turn, call_action
from bot.expected import ExpectedAnswers
from bot.fixcheck import FixCheckAnswers
from bot.hearing import Heard, hear, parse_late, something_said
from bot.knowledge import KnowledgeBase
from bot.locations import StreetDirectory
from bot.photos import PhotoFlow
from bot.reports import ReportFlow
from bot.safety import Danger, DangerDetector
from bot.spoken import redact_said, words_to_digits
from bot.state import DialogueState, Step
from bot.switching import Switching
from cases import conversations, deferred
from cases.db import begin_read_only
from cases.fix_checks import FixCheckRules
from cases.models import Conversation, utcnow
from cases.models import Turn as TurnRow
from cases.service import find_case_number
from nlu.client import FALLBACK_INTENT, NLU
from telemetry import metrics
from wording import Wording

__all__ = ["Engine", "Reply", "Turn", "call_action"]

TURN_INSERT = insert(TurnRow.__table__)  # built once: no statement or cache key per turn
SIMPLE = {
    "greet": ("GREETING", "greeting"),
    "help": ("MENU", "menu"),
    "thank_you": ("THANKS", "closing"),
    "goodbye": ("GOODBYE", "closing"),
    "affirm": ("ANYTHING_ELSE", "menu"),
    "deny": ("ANYTHING_ELSE", "menu"),
    "cancel": ("NOTHING_TO_CANCEL", "menu"),
}


class Engine:
    """The dialogue engine, driven by the service catalogue and the knowledge base."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        kb: KnowledgeBase,
        streets: StreetDirectory,
        nlu: NLU,
        safety: DangerDetector,
        wording: Wording,
        conversation_timeout: timedelta = timedelta(minutes=30),
        asr_min_confidence: float = 0.4,
        clock: Callable[[], datetime] = utcnow,
        fix_checks: FixCheckRules | None = None,
    ):
        self.catalog = catalog
        self.kb = kb
        self.streets = streets
        self.nlu = nlu
        self.safety = safety
        self.wording = wording
        self.timeout = conversation_timeout
        self.asr_min_confidence = asr_min_confidence
        self.clock = clock
        self.reports = {
            lang: ReportFlow(catalog=catalog, streets=streets, kb=kb, language=lang)
            for lang in wording.languages
        }
        self.switching = Switching(
            wording=wording, reports=self.reports, timeout=conversation_timeout, clock=clock
        )
        self.fix_checks = FixCheckAnswers(fix_checks or FixCheckRules())
        self.photos = PhotoFlow(catalog=catalog, reports=self.reports)
        self.expected = ExpectedAnswers(catalog=catalog, streets=streets)

    # ---------------------------------------------------------------- the turn
    def handle(self, turn: Turn, *, db_session: Session) -> Reply:
        """Handle one message in one transaction; a repeated message id replays its reply."""
        text = redact_said(turn.text, voice=turn.channel == "voice")
        if turn.channel == "voice":  # numbers said in any of our languages are numbers
            for language in self.wording.languages[1:]:
                text = redact_said(text, voice=True, language=language)
        begin_read_only(db_session)  # what hear() reads takes no write lock (WAL readers)
        if turn.message_id and conversations.handled_before(
            db_session=db_session, message_id=turn.message_id
        ):
            stored = conversations.find_turn(db_session=db_session, message_id=turn.message_id)
            if stored is not None:
                return self._replay(stored)
        heard = hear(self, turn, text, db_session=db_session)  # commits the reads
        for attempt in range(3):
            try:
                with db_session.begin():
                    reply, filed = self._turn(turn, heard, db_session)
                # counted once committed, so a retried transaction is not counted twice
                intent = heard.parse.intent if heard.parse else None
                metrics.turn(turn.channel, "expected_answer" if heard.expected else intent)
                if filed:
                    metrics.case_filed(filed)
                return reply
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
        """A new phone call: its own conversation, and the welcome (idempotent per CallSid).

        A number that last spoke another language is welcomed in it.
        """
        with db_session.begin():
            conv = conversations.open_call(
                db_session=db_session, call_sid=call_sid, caller=caller, now=self.clock()
            )
            known = conversations.remembered_language(db_session=db_session, phone=caller)
            if known is not None and not conv.state:
                conv.language = self.wording.language(known)
            language = conv.language
            welcome = notices.welcome(self.wording, language, db_session, self.clock())
        return Reply(welcome, "welcome", keys=True, language=language)

    def end_call(
        self, *, call_sid: str, status: str, duration: int | None, db_session: Session
    ) -> Conversation | None:
        """Close a call's conversation with its duration and outcome (from Twilio's callback)."""
        with db_session.begin():
            conv = conversations.find_call(db_session=db_session, call_sid=call_sid)
            if conv is None or conv.status == "closed":
                return conv
            mid_report = DialogueState.from_json(conv.state).in_report
            reason = "hung_up_mid_report" if mid_report else status
            conversations.close_conversation(conv, reason=reason, now=self.clock())
            conv.duration_seconds = duration
            conv.state = {}
            return conv

    def _heard(self, turn: Turn, text: str) -> bool:
        """Whether there is something to understand (voice: clear enough speech, or keys)."""
        return something_said(turn, text, self.asr_min_confidence)

    def _turn(self, turn: Turn, heard: Heard, db_session: Session) -> tuple[Reply, str | None]:
        """The turn's reply, and the service code of the case it filed (None if none)."""
        text, keyword, danger, parse = heard.text, heard.keyword, heard.danger, heard.parse
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
        understood = text
        if turn.channel == "voice":
            understood = words_to_digits(text, language=heard.language)
        if turn.digits:
            understood = turn.digits
        state = DialogueState.from_json(conv.state)
        conv.language = heard.language
        conversations.remember_language(
            db_session=db_session,
            phone=turn.sender,
            language=heard.language,
            chosen=heard.asked,
            now=now,
        )
        if heard.expected and not self.expected.clear(text, state, heard.language):
            parse = parse_late(self.nlu, text, heard.language)  # another text moved the question
        d = Dialogue(conv, understood, parse, now, turn, state, self.wording, None, conv.language)
        if turn.media:  # stored on the conversation first, whatever happens next
            self.photos.receive(d, db_session)
        photo_alone = bool(turn.media) and not text.strip()
        if keyword:
            reply = self._compliance(d, keyword, db_session)
        elif state.step == Step.DANGER_CHECK and photo_alone:
            reply = danger_check.hold_photos(d)
        elif state.step == Step.DANGER_CHECK:
            reply = danger_check.answer(d, danger, lambda d: self._decided(d, db_session))
        elif danger.level == Danger.CLEAR:
            reply = danger_check.emergency(d)  # any photos stay on the conversation, never a case
        elif danger.level == Danger.POSSIBLE and conv.handoff_status != "taken":
            reply = danger_check.ask(d)
        elif heard.asked:
            reply = self.switching.language_changed(d)
        elif photo_alone:
            reply = self.photos.alone(d, db_session)
        elif not self._heard(turn, text) and parse is None:
            reply = calls.no_input(d)
        else:
            state.no_input = 0
            reply = self._decided(d, db_session)
        if d.voice and reply.kind in {"question", "confirm", "danger_check"}:
            state.last_question = reply.text
        conv.state = state.to_json()
        conv.last_activity_at = now
        if keyword == "opt_out":
            conversations.close_conversation(conv, reason="opted_out", now=now)
        db_session.flush()
        # one Core INSERT, not the unit of work nor an ORM bulk insert: nothing reads it back
        db_session.connection().execute(
            TURN_INSERT,
            dict(
                conversation_id=conv.id,
                message_id=turn.message_id,
                channel=turn.channel,
                text=text if not turn.digits else f"[keypad] {turn.digits}",
                asr_confidence=turn.asr_confidence,
                intent=parse.intent if parse else None,
                confidence=parse.confidence if parse else None,
                entities=parse.entities if parse else [],
                ranking=intents.top_intents(parse),
                danger=danger.reason if danger.level > Danger.NONE else None,
                nlu_error=heard.nlu_error,
                reply=reply.text,
                reply_kind=reply.kind,
                received_at=now,
                replied_at=self.clock(),
                case_id=d.case.id if d.case else None,
            ),
        )
        keys = turn.channel == "voice"  # every step takes keys: 8 text, 9 language, 0 operator
        filed = d.case.service_code if reply.kind == "filed" and d.case else None
        return Reply(
            reply.text,
            reply.kind,
            case_number=reply.case_number,
            action=call_action(reply.kind, turn.channel),
            keys=keys,
            language=conv.language,
        ), filed

    def _replay(self, stored: TurnRow) -> Reply:
        number = stored.case.service_request_id if stored.case else None
        return Reply(
            stored.reply,
            stored.reply_kind,
            case_number=number,
            replayed=True,
            action=call_action(stored.reply_kind, stored.channel),
            keys=stored.channel == "voice",
            language=stored.conversation.language,
        )

    # ------------------------------------------------------------ compliance
    def _compliance(self, d: Dialogue, keyword: str, db_session: Session) -> Reply:
        phone = d.turn.sender
        if keyword == "opt_out":
            d.state.reset()
            conversations.set_opt_out(
                db_session=db_session, phone=phone, keyword=keywords.normalise(d.text), now=d.now
            )
            return d.say("OPT_OUT", "opt_out")
        if keyword == "opt_in":
            conversations.set_opt_out(db_session=db_session, phone=phone, keyword=None, now=d.now)
            return d.say("OPT_IN", "opt_in")
        return d.say("HELP", "help")

    # -------------------------------------------------------------- deciding
    def _decided(self, d: Dialogue, db_session: Session) -> Reply:
        """Decide on the words; photos that came with them follow (bot/photos.py)."""
        if d.photos or d.refused or d.state.step == Step.PHOTO_PROBLEM:
            return self.photos.with_words(d, db_session, lambda: self._decide(d, db_session))
        return self._decide(d, db_session)

    def _decide(self, d: Dialogue, db_session: Session) -> Reply:
        conv, state = d.conversation, d.state
        if d.turn.digits and (reply := calls.keypad(d)):
            return reply
        if conv.handoff_status == "taken" and not d.voice:
            return Reply("", "to_staff")  # a person is answering: the bot stays quiet
        if conv.handoff_status == "waiting" and not d.voice:
            if keywords.is_back_to_bot(d.text, language=d.language):
                conv.handoff_status = "none"
                state.reset()
                return d.say("ANYTHING_ELSE", "menu")
            return d.say("HOLDING", "holding")
        if (answered := self.fix_checks.reply(d, db_session)) is not None:
            return answered  # "Was it fixed?" answered (bot/fixcheck.py)
        if not d.voice and keywords.is_follow(d.text, language=d.language):
            return by_number.follow(d, db_session)
        if (alerts := notices.command(d)) is not None:  # ALERTS, ALERTS TRASH 120 Elm St
            return notices.reply(d, alerts, db_session, catalog=self.catalog, streets=self.streets)
        reports = self.reports[d.language]
        answering = state.step == Step.COLLECTING and state.report and reports.fits(d, state.report)
        if (d.confident("request_human") and not answering) or (
            d.voice and keywords.normalise(d.text) in calls.OPERATOR_WORDS
        ):
            return d.handoff("requested")  # a place given when asked for one is an answer
        if state.step != Step.IDLE and corrections.is_cancel(d.text, language=d.language):
            state.reset()
            return d.say("CANCELLED", "cancelled")
        if d.voice and calls.wants_text(d):
            return self.switching.text_me(d, db_session)
        if state.step == Step.COLLECTING and state.report:
            return reports.collect(d)
        if state.step == Step.CONFIRMING and state.report:
            return reports.confirm(d, db_session)
        if state.step == Step.OFFER_SMS:
            return reports.offer_sms(d, db_session)
        if state.step == Step.AWAITING_CASE:
            number = find_case_number(d.text)
            if number:
                state.reset()
                return by_number.status(d, number, db_session, self.catalog)
            if d.intent in (None, FALLBACK_INTENT, "out_of_scope", "check_status", "affirm"):
                return d.retry("ASK_CASE_AGAIN", "question")
        return self._idle(d, db_session)

    def _idle(self, d: Dialogue, db_session: Session) -> Reply:
        """A message outside any question: a new report, a question, a case, or chat."""
        intent, state = d.intent, d.state
        if d.turn.digits and (number := find_case_number(d.turn.digits)):
            state.reset()  # a case number keyed in at any point
            return by_number.status(d, number, db_session, self.catalog)
        if d.parse is None:
            if d.voice:
                return d.handoff("nlu_unavailable", "NLU_DOWN")
            if d.turn.message_id:  # answered by text when the NLU is back (cases/deferred.py)
                deferred.defer(
                    db_session=db_session,
                    channel=d.turn.channel,
                    sender=d.turn.sender,
                    message_id=d.turn.message_id,
                    text=d.text,
                    reason="nlu_down",
                    now=d.now,
                )
            return d.say("NLU_DOWN", "nlu_unavailable")
        known = (
            intent in self.catalog.by_intent
            or intent in self.kb.by_intent
            or intent in CONVERSATION_INTENTS
        )
        entity = d.parse.entity("case_id") or ""  # Rasa's RegexEntityExtractor
        number = find_case_number(entity) or find_case_number(d.text)
        if number and intent == "cancel":
            return d.handoff("cancel_case")  # a filed case is withdrawn by a person
        if number and (not known or intent in ("out_of_scope", "check_status")):
            state.reset()  # a case number says it all
            return by_number.status(d, number, db_session, self.catalog)
        if intent == "check_status" and (service := intents.report_not_status(d, self.catalog)):
            intent = service
        if intent == "emergency":  # the words explained the danger away: the runner-up is meant
            intent = intents.runner_up(d)
            known = intent is not None
        if not known or intent == "out_of_scope":
            misses = state.misses + 1
            if misses >= 2:
                return d.handoff("not_understood", "HANDOFF_AFTER_MISSES")
            state.reset()
            state.misses = misses
            return d.say("REPROMPT", "reprompt")
        state.reset()
        if intent == "request_human":
            return d.handoff("requested")
        if intent in self.catalog.by_intent:
            reports = self.reports[d.language]
            return reports.start(d, reports.catalog.by_intent[str(intent)])
        if intent in self.kb.by_intent:
            answer = self.kb.localized(d.language).by_intent[str(intent)]
            said = " ".join(
                filter(None, [notices.lead(d, db_session, str(intent)), d.answer(answer)])
            )
            if d.voice:
                return d.say("ANSWER_MORE", "answer", answer=said)
            return Reply(said, "answer")
        if intent == "check_status":
            state.step = Step.AWAITING_CASE
            return d.say("ASK_CASE_NUMBER", "question")
        if d.voice and intent in ("goodbye", "thank_you", "deny"):
            return d.say("THANKS" if intent == "thank_you" else "GOODBYE", "closing")
        name, kind = SIMPLE[str(intent)]
        return d.say(name, kind)
