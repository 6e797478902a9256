"""Answers to "Was it fixed?" (cases/fix_checks.py), taken before the rest of the dialogue.

A text from a number with a question waiting is its answer when the whole message is one:
1/yes, 2/no, 3/partly (or the language's words: sí, no, en parte), optionally with the case
number. Anything else goes through the normal dialogue and the question keeps waiting (the
engine's danger check has run before any of this). Only an idle conversation is read this
way, so "2" meant as an answer to the bot's own question (a list choice) stays that answer.

- yes: thanks, and asks for a 1-5 rating (optional: SKIP, or any other message, ends it);
- no / partly: the case goes back to its agency (cases.lifecycle.not_fixed) and the resident
  is told so; when that is the case's second reopening, a person follows up (handoff queue).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot import keywords, wordlists
from bot.dialogue import Dialogue, Reply
from bot.state import Step
from cases import fix_checks, lifecycle
from cases.fix_checks import FixCheckRules
from cases.models import Case, FixCheck
from cases.service import find_case_number

YES = {"1", "yes", "y", "yeah", "yep", "yup", "fixed", "yes fixed", "yes it is", "yes it was"}
YES |= {"its fixed", "it's fixed", "it is fixed", "all fixed", "yes thanks", "yes thank you"}
NO = {"2", "no", "n", "nope", "not fixed", "no its not", "no it's not", "no it isn't", "not yet"}
NO |= {"still broken", "still there", "its still there", "it's still there", "nothing was done"}
PARTLY = {"3", "partly", "partially", "partly fixed", "partially fixed", "sort of", "kind of"}
PARTLY |= {"somewhat", "half", "half done", "not completely", "not entirely", "some of it"}
ENGLISH = {"yes": YES, "no": NO, "partly": PARTLY}
RATING = re.compile(r"^([1-5])(?: ?(?:stars?|estrellas?|/ ?5|out of 5|de 5))?$")
ENGLISH_RATINGS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
CASE_WORDS = re.compile(r"\b(for|case|caso|del|de|el|para)\b|#")


def _said(text: str) -> str:
    """The message without a case number and the words around it ("2 for case 311-...")."""
    without = keywords.CASE_NUMBER.sub(" ", text)
    if without != text:
        without = CASE_WORDS.sub(" ", without.lower())
    return keywords.normalise(without)


def read_answer(text: str, languages: tuple[str, ...]) -> str | None:
    """'yes', 'no' or 'partly' when the whole message is that answer, else None."""
    said = _said(text)
    for answer, english in ENGLISH.items():
        if said in english:
            return answer
    plain = wordlists.plain(said)
    for language in dict.fromkeys(languages):
        if language == "en":
            continue
        for answer in ENGLISH:
            if plain in wordlists.words(language, f"fixed_{answer}"):
                return answer
    return None


def read_rating(text: str, languages: tuple[str, ...]) -> int | None:
    """A 1-5 rating ("4", "5 stars", "4/5", "cuatro"), else None."""
    said = wordlists.plain(_said(text).replace("/", " / ")).replace(" / ", "/")
    if match := RATING.match(said):
        return int(match.group(1))
    if said in ENGLISH_RATINGS:
        return ENGLISH_RATINGS[said]
    for language in dict.fromkeys(languages):
        words = wordlists.table(language).get("rating_words") or {}
        if said in words:
            return int(words[said])
    return None


def _skipped(text: str, language: str) -> bool:
    said = _said(text)
    return keywords.is_skip(said, language=language) or keywords.is_no(said, language=language)


class FixCheckAnswers:
    """The engine's step for residents answering "Was it fixed?" and its rating question."""

    def __init__(self, rules: FixCheckRules):
        self.rules = rules

    def reply(self, d: Dialogue, db_session: Session) -> Reply | None:
        """The reply to an answer, or None: not an answer, the dialogue goes on as usual."""
        language = d.language
        reply = self._reply(d, db_session)
        if reply is None:
            d.language = language
        return reply

    def _reply(self, d: Dialogue, db_session: Session) -> Reply | None:
        if d.voice or d.state.step != Step.IDLE:
            return None
        waiting = fix_checks.waiting(
            db_session=db_session,
            phone=d.turn.sender,
            now=d.now,
            window=self.rules.answer_window,
        )
        if not waiting:
            return None
        check = waiting[0]  # the latest question
        if number := find_case_number(d.text):
            check = next((c for c in waiting if _number(db_session, c) == number), None)
            if check is None:
                return None  # a case number we did not ask about: the dialogue handles it
        languages = (d.language, check.language)
        if _said(d.text).isdigit():  # "2" is in no language: answer in the question's
            d.language = check.language
        if check.status == "rating":
            return self._rating(d, db_session, check, languages)
        answer = read_answer(d.text, languages)
        if answer is None:
            return None
        if answer == "yes":
            if not fix_checks.record_answer(db_session, check, answer, d.now):
                return None  # answered by another message at the same moment
            d.case = db_session.get(Case, check.case_id)
            return d.say("FIX_THANKS_RATE", "fix_rating")
        result = lifecycle.not_fixed(db_session=db_session, check=check, answer=answer, now=d.now)
        if result is None:
            return None
        d.case, d.state.misses = result.case, 0
        number = result.case.service_request_id
        if result.reopened and result.times >= 2:
            return d.handoff("reopened_twice", "FIX_REOPENED_AGAIN", number=number)
        return d.say(
            "FIX_REOPENED", "fix_reopened", number=number, agency=result.worked.agency_responsible
        )

    def _rating(
        self, d: Dialogue, db_session: Session, check: FixCheck, languages: tuple[str, ...]
    ) -> Reply | None:
        rating = read_rating(d.text, languages)
        # the rating question is over either way: rated, skipped, or something else was said
        if not fix_checks.record_rating(db_session, check, rating, d.now):
            return None
        if rating is not None:
            return d.say("FIX_RATED", "fix_rated")
        if _skipped(d.text, d.language):
            return d.say("FIX_RATING_SKIPPED", "fix_rated")
        return None


def _number(db_session: Session, check: FixCheck) -> str | None:
    case = db_session.get(Case, check.case_id)
    return case.service_request_id if case else None
