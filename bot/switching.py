"""Changing language or channel mid-conversation: which language a turn is in, and a call
that goes on by text. The open question is asked again either way, so nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import calls, keywords
from bot.dialogue import Dialogue, Reply, Turn
from bot.languages import LanguageDetector
from bot.reports import ReportFlow
from bot.state import Step
from cases import conversations
from cases.conversations import ConversationView
from cases.outbox import enqueue_sms
from nlu.client import FALLBACK_INTENT, NLU, NLUError, Parse
from wording import Wording


class Switching:
    """Language and channel changes, for the engine."""

    def __init__(
        self,
        *,
        wording: Wording,
        reports: dict[str, ReportFlow],
        timeout: timedelta,
        clock: Callable[[], datetime],
    ):
        self.wording = wording
        self.reports = reports
        self.timeout = timeout
        self.clock = clock
        self.languages = LanguageDetector(
            {lang: wording.phrases("asked_by", lang) for lang in wording.languages}
        )

    def language(
        self,
        turn: Turn,
        text: str,
        keyword: str | None,
        live: ConversationView | None,
        *,
        db_session: Session,
    ) -> tuple[tuple[str, ...], bool]:
        """The languages to read this message in (best first), and whether one was asked for.

        Asked for by name (or keypad 9 on a call), else identified on a conversation's first
        message (several when unsure: see best_reading), else the conversation's (a call
        changes only when asked: its speech recognition listens for one language at a time).
        live: the sender's live conversation (`conversations.live_conversation`), if any.
        """
        current, new = conversations.current_language(
            db_session=db_session, conversation=live, sender=turn.sender
        )
        current = self.wording.language(current)
        if keyword:
            return (keywords.keyword_language(text) or current,), False
        if turn.digits == calls.LANGUAGE_KEY:
            languages = self.wording.languages
            return (languages[(languages.index(current) + 1) % len(languages)],), True
        if turn.digits:
            return (current,), False
        if (asked := self.languages.asked_for(text)) is not None:
            return (asked,), True
        if turn.channel == "voice":
            return (current,), False
        if new:
            return self.languages.first_turn_choices(text, current), False
        return (self.languages.later_turn(text, current),), False

    def best_reading(
        self, nlu: NLU, text: str, languages: tuple[str, ...], first: Parse
    ) -> tuple[str, Parse]:
        """Of an unsure message's readings (first: in languages[0]), the one understood best."""
        best_language, best = languages[0], first
        for other in languages[1:]:
            try:
                parse = nlu.parse(text, language=other)
            except NLUError:
                continue  # that language's servers are down: keep what we have
            if _strength(parse) > _strength(best):
                best_language, best = other, parse
        return best_language, best

    def language_changed(self, d: Dialogue) -> Reply:
        """Asked for another language: say so in it, and ask the open question again."""
        again = self.question_again(d)
        return Reply(d.words("LANGUAGE_CHANGED", question=again.text), again.kind)

    def question_again(self, d: Dialogue) -> Reply:
        """What the conversation is waiting for, asked anew (in the turn's language and channel)."""
        state = d.state
        if state.step in (Step.COLLECTING, Step.CONFIRMING) and state.report:
            return self.reports[d.language].next(d)
        if state.step == Step.AWAITING_CASE:
            return d.say("ASK_CASE_NUMBER", "question")
        if state.step == Step.DANGER_CHECK:
            return d.say("DANGER_CHECK", "danger_check")
        if state.step == Step.OFFER_SMS:
            return d.say("OFFER_SMS_AGAIN", "confirm")
        return d.say("ANYTHING_ELSE", "menu")

    def text_me(self, d: Dialogue, db_session: Session) -> Reply:
        """A caller who would rather type: the conversation goes on by SMS, the call ends."""
        phone = d.turn.sender
        if not calls.textable(phone) or conversations.is_opted_out(
            db_session=db_session, phone=phone
        ):
            return d.say("TEXT_ME_NO_PHONE", "question", question=self.question_again(d).text)
        by_text = replace(d, turn=replace(d.turn, channel="sms", call_sid=None))
        question = self.question_again(by_text).text
        conv = conversations.open_conversation(
            db_session=db_session, channel="sms", sender=phone, now=d.now, timeout=self.timeout
        )
        d.state.last_question = None
        conv.state, conv.language, conv.last_activity_at = d.state.to_json(), d.language, d.now
        enqueue_sms(
            db_session=db_session,
            to=phone,
            body=by_text.words("TEXT_ME_SMS", question=question),
            reason="text_me",
            conversation_id=conversations.stored(db_session, conv).id,
            now=d.now,
        )
        d.state.reset()
        conversations.close_conversation(d.conversation, reason="moved_to_sms", now=d.now)
        return d.say("TEXT_ME", "closing")


def _strength(parse: Parse) -> float:
    """How well a model understood a message: a real intent's confidence (0 for not at all)."""
    if parse.intent in (None, FALLBACK_INTENT, "out_of_scope"):
        return 0.0
    return parse.confidence
