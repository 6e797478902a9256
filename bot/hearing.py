"""Understanding a message before its transaction: keyword, language, danger, and the NLU parse.

Kept apart from the engine's decisions so the slow part (the NLU call) is visibly outside any
database transaction, and so the fast path (bot/expected.py) sits beside the parse it skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import intents, keywords
from bot.dialogue import Turn
from bot.safety import Assessment, Danger
from cases import conversations
from nlu.client import NLU, NLUError, Parse

if TYPE_CHECKING:
    from bot.engine import Engine


@dataclass(frozen=True)
class Heard:
    """What was made of a message before its transaction: words, keyword, danger, NLU, language."""

    text: str
    keyword: str | None
    danger: Assessment
    parse: Parse | None
    nlu_error: str | None
    language: str
    asked: bool  # the resident asked for this language (by name, or keypad 9 on a call)
    expected: bool = False  # cleanly the answer the open question asked for: not parsed


def hear(engine: Engine, turn: Turn, text: str, *, db_session: Session) -> Heard:
    """Read what the turn needs, commit that read, then check for danger and parse (or not).

    The emergency lexicon and the carrier keywords run on every message; the NLU is skipped
    only for a clear answer to the open question with no hint of danger (bot/expected.py).
    """
    keyword = keywords.compliance_keyword(text) if turn.channel == "sms" else None
    if (
        keyword == "opt_in"
        and keywords.normalise(text) == "yes"
        and not conversations.is_opted_out(db_session=db_session, phone=turn.sender)
    ):
        keyword = None  # a plain "yes" from a subscribed resident is an answer, not a keyword
    live = conversations.live_conversation(
        db_session=db_session,
        channel=turn.channel,
        sender=turn.sender,
        call_sid=turn.call_sid,
        now=engine.clock(),
        timeout=engine.timeout,
    )
    languages, asked = engine.switching.language(turn, text, keyword, live, db_session=db_session)
    language = languages[0]
    listen = (
        keyword is None
        and not turn.digits
        and something_said(turn, text, engine.asr_min_confidence)
        and not asked
    )
    answer = listen and engine.expected.answered(live, turn, text, language)  # "yes", "2"...
    db_session.commit()  # release the read transaction before the (slow) NLU call
    place_free = engine.streets.without_streets(text, language=language)  # "Water St" is no water
    danger = engine.safety.lexicon(place_free)
    parse, nlu_error = None, None
    if listen and danger.level < Danger.CLEAR and not (answer and danger.level == Danger.NONE):
        said = intents.for_nlu(text)
        try:
            parse = engine.nlu.parse(said, language=language)
        except NLUError as exc:
            nlu_error = str(exc)
        if parse is not None and len(languages) > 1:
            language, parse = engine.switching.best_reading(engine.nlu, said, languages, parse)
            place_free = engine.streets.without_streets(text, language=language)
        danger = engine.safety.assess(place_free, parse, found=danger)
    unparsed = bool(answer) and parse is None and nlu_error is None
    return Heard(text, keyword, danger, parse, nlu_error, language, asked, unparsed)


def something_said(turn: Turn, text: str, min_confidence: float) -> bool:
    """Whether there is something to understand (voice: clear enough speech, or keys)."""
    if turn.digits:
        return True
    if turn.channel != "voice":
        return bool(text)
    confident = turn.asr_confidence is None or turn.asr_confidence >= min_confidence
    return bool(text) and confident


def parse_late(nlu: NLU, text: str, language: str) -> Parse | None:
    """A parse after all (rare: another message changed the question since the answer was
    judged clear); None when the NLU is down, which the dialogue already handles."""
    try:
        return nlu.parse(intents.for_nlu(text), language=language)
    except NLUError:
        return None
