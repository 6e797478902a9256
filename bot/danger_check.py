"""The dialogue around danger: 911 at once, or "is anyone in danger?" before anything else.

The words are judged in bot/safety.py; this is what the conversation does with the judgement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from bot.dialogue import Dialogue, Reply
from bot.report_answers import yes_no
from bot.safety import Assessment, Danger
from bot.state import Step
from nlu.client import Parse


def emergency(d: Dialogue) -> Reply:
    """Call 911 now; whatever was being reported is dropped, never filed."""
    d.state.reset()
    return d.say("EMERGENCY", "emergency")


def ask(d: Dialogue) -> Reply:
    """Maybe an emergency: ask before anything else, holding the message back."""
    state = d.state
    state.paused = state.step
    state.step = Step.DANGER_CHECK
    state.held = {
        "text": d.text,
        "parse": asdict(d.parse) if d.parse else None,
        "photos": d.photos,
    }
    return d.say("DANGER_CHECK", "danger_check")


def hold_photos(d: Dialogue) -> Reply:
    """Photos alone while "is anyone in danger?" waits: kept with the held message."""
    held = d.state.held or {}
    d.state.held = {**held, "photos": [*held.get("photos", []), *d.photos]}
    return d.say("DANGER_CHECK", "danger_check")


def answer(d: Dialogue, danger: Assessment, carry_on: Callable[[Dialogue], Reply]) -> Reply:
    """After "is anyone in danger?": yes (or more danger) is 911, no carries on with the
    message held back (`carry_on` decides on it as on any other)."""
    state = d.state
    said = yes_no(d)
    if danger.level > Danger.NONE or said is True:
        return emergency(d)
    held = state.held or {}
    state.step, state.paused, state.held = state.paused or Step.IDLE, None, None
    if said is False and held:
        parse = held.get("parse")
        d.text = str(held.get("text") or "")
        d.parse = Parse(**parse) if parse else None
    d.photos = [*held.get("photos", []), *d.photos]
    return carry_on(d)
