"""What only a phone call has: silence, unclear speech, the keypad and asking for an operator."""

from __future__ import annotations

import re

from bot.dialogue import Dialogue, Reply
from bot.languages import fold
from bot.state import Step
from cases.service import find_case_number

MAX_NO_INPUT = 2  # silent or unclear voice turns before the keypad menu
OPERATOR_WORDS = {
    *("operator", "agent", "representative", "a person", "person", "human"),
    *("operador", "operadora", "agente", "una persona", "persona", "humano", "representante"),
}
LANGUAGE_KEY = "9"  # the next language (the welcome offers it); no choice list is this long
TEXT_KEY = "8"  # go on by text message
PHONE_NUMBER = re.compile(r"^\+\d{8,15}$")  # E.164: a number an SMS can reach (not "anonymous")


def wants_text(d: Dialogue) -> bool:
    """Keypad 8, or asking to go on by text ("text me", "mandame un mensaje")."""
    if d.turn.digits:
        return d.turn.digits == TEXT_KEY
    said = fold(d.text)
    if not said or len(said.split()) > 8:
        return False
    padded = f" {said} "
    return any(f" {fold(p)} " in padded for p in d.wording.phrases("text_me_by", d.language))


def textable(phone: str) -> bool:
    """Whether a caller's number can get a text (a withheld or odd caller ID cannot)."""
    return bool(PHONE_NUMBER.match(phone))


def no_input(d: Dialogue) -> Reply:
    """Silence or speech too unclear to act on: ask again, then offer the keypad.

    A text with no words (blanks) is asked for words; the state is kept. (A photo alone is
    bot/photos.py's.)
    """
    if not d.voice:
        return d.say("NO_INPUT", "no_input")
    d.state.no_input += 1
    if d.state.no_input >= MAX_NO_INPUT:
        return d.say("KEYPAD", "keypad")
    question = d.state.last_question or d.words("ANYTHING_ELSE")
    return d.say("NO_INPUT", "no_input", question=question)


def keypad(d: Dialogue) -> Reply | None:
    """Keypad presses outside a question: 1 report, 2 information, 0 operator."""
    digits = d.turn.digits or ""
    if digits == TEXT_KEY:
        return None  # the engine moves the conversation to text
    if digits == "0":
        return d.handoff("operator")
    if d.state.step != Step.IDLE or find_case_number(digits):
        return None  # an answer to the question asked (or a case number): handled as text
    if digits == "1":
        return d.say("KEYPAD_REPORT", "question")
    if digits == "2":
        return d.say("KEYPAD_INFO", "question")
    return d.say("KEYPAD", "keypad")
