"""Residents who leave the script: danger mid-report, corrections, cancelling, stray numbers."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from bot.engine import Turn
from bot.intents import for_nlu
from bot.state import DialogueState, Step
from cases.models import Case, Conversation
from nlu.client import Parse
from runtime import build_runtime
from tests.fakes import FakeNLU

PHONE = "+15550100002"
_ids = itertools.count(1)


class ScriptedNLU(FakeNLU):
    """FakeNLU, except for texts given a parse of their own."""

    def __init__(self) -> None:
        super().__init__()
        self.parses: dict[str, Parse] = {}

    def parse(self, text: str, language: str = "en") -> Parse:
        self.calls.append(text)
        return self.parses.get(text) or super().parse(text, language)


@pytest.fixture
def nlu() -> ScriptedNLU:
    return ScriptedNLU()


@pytest.fixture
def runtime(settings, nlu):
    return build_runtime(settings, nlu)


@pytest.fixture
def say(runtime):
    def _say(text: str, channel: str = "sms"):
        turn = Turn(channel, PHONE, text, f"SM{next(_ids):032d}")
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


def cases(runtime) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count()).select_from(Case))


def state(runtime) -> DialogueState:
    with runtime.Session() as session:
        conv = session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()
        return DialogueState.from_json(conv.state)


def test_danger_typed_as_the_cross_street_gets_911_and_never_files(say, runtime):
    assert "Where on Elm Street" in say("pothole on elm st").text
    reply = say("omg a car just hit a cyclist in front of me")
    assert reply.kind == "emergency" and "Call 911" in reply.text
    assert say("yes").kind != "filed"
    assert cases(runtime) == 0


def test_danger_at_the_read_back_drops_the_report(say, runtime):
    say("pothole at 120 elm st")
    assert say("someone is lying in the street not moving").kind == "emergency"
    assert state(runtime).step == Step.IDLE
    assert cases(runtime) == 0


def test_a_possible_danger_is_asked_and_no_carries_on_with_the_message(say, runtime, nlu):
    text = "theres smoke near the pothole on elm st"
    nlu.parses[text] = Parse("pothole", 0.9)
    asked = say(text)
    assert asked.kind == "danger_check" and "911" in asked.text
    reply = say("no")
    assert reply.kind == "question" and "Elm Street" in reply.text


def test_yes_to_the_danger_check_is_911(say, runtime, nlu):
    nlu.parses["i can see sparks"] = Parse("out_of_scope", 0.7)
    assert say("i can see sparks").kind == "danger_check"
    assert say("yes").kind == "emergency"
    assert cases(runtime) == 0


def test_a_new_street_at_the_cross_street_question_replaces_the_street(say, runtime):
    say("pothole on elm st")
    reply = say("sorry I meant Pine Street")
    assert reply.kind == "question" and "Where on Pine Street" in reply.text
    confirm = say("at 14 pine st")
    assert "Pothole at 14 Pine Street" in confirm.text


def test_the_read_back_takes_a_new_house_number_and_reads_back_again(say, runtime):
    say("pothole at 24 elm st")
    reply = say("the number is 42 not 24")
    assert reply.kind == "confirm" and "42 Elm Street" in reply.text and "changed" in reply.text
    assert say("yes").kind == "filed"
    with runtime.Session() as session:
        assert session.scalars(select(Case)).one().address == "42 Elm Street"


def test_the_read_back_takes_a_different_choice(say, runtime):
    say("no heat in my apartment")
    assert say("44 maple ave").kind == "confirm"
    reply = say("both, not only the heat")
    assert reply.kind == "confirm" and "No heat and no hot water" in reply.text
    say("yes")
    with runtime.Session() as session:
        assert session.scalars(select(Case)).one().attributes["problem"] == "neither"


def test_the_read_back_takes_a_different_street(say, runtime):
    say("pothole at 120 elm st")
    reply = say("no wait, it's 120 Oak Ave")
    assert reply.kind == "confirm" and "120 Oak Avenue" in reply.text


@pytest.mark.parametrize(
    "text", ["oh forget about it, someone already fixed it", "nvm the city fixed it", "never mind"]
)
def test_natural_cancellation_mid_report(say, runtime, text):
    say("pothole on elm st")
    assert say(text).kind == "cancelled"
    assert state(runtime).step == Step.IDLE and cases(runtime) == 0


def test_ordinary_words_are_not_streets(say):
    say("pothole on elm st")
    reply = say("in front of the bakery")
    assert reply.kind == "question" and "Front" not in reply.text


def test_a_call_back_number_is_not_a_case_number(say, runtime, nlu):
    text = "no heat since friday at 44 maple ave, call me back at 555 010 2288"
    nlu.parses[for_nlu(text)] = Parse(
        "check_status",
        0.7,
        [],
        [
            {"name": "check_status", "confidence": 0.7},
            {"name": "no_heat_hot_water", "confidence": 0.25},
        ],
    )
    reply = say(text)
    assert reply.kind == "confirm" and "44 Maple Avenue" in reply.text
    assert "case number" not in reply.text
    assert "2288" not in nlu.calls[-1]  # the NLU never sees the phone number


def test_case_numbers_still_reach_the_nlu():
    assert for_nlu("status 311-0001234") == "status 311-0001234"
    assert for_nlu("call me at (555) 010-2288") == "call me at"


def test_a_phone_number_is_not_a_house_number(say):
    say("pothole on elm st")
    reply = say("call me at 555-010-2288")
    assert reply.kind == "question" and "555" not in reply.text


def test_a_question_mid_report_is_answered_and_the_question_asked_again(say, runtime):
    say("pothole on elm st")
    reply = say("when is trash pickup?")
    assert reply.kind == "answer" and "Back to your report" in reply.text
    assert "Where on Elm Street" in reply.text
    assert "Pothole at 9 Elm Street" in say("9 elm st").text


def test_old_dictionary_state_starts_afresh():
    assert DialogueState.from_json({"step": "collecting", "pending": "attr:size"}) == (
        DialogueState()
    )


def test_an_emergency_guess_explained_away_by_the_words_takes_the_runner_up(say, runtime, nlu):
    text = "drowning in paperwork for a permit, when are city offices open"
    nlu.parses[text] = Parse(
        "emergency",
        0.7,
        [],
        [{"name": "emergency", "confidence": 0.7}, {"name": "ask_office_hours", "confidence": 0.2}],
    )
    reply = say(text)
    assert reply.kind == "answer" and cases(runtime) == 0


def test_the_nlu_cancel_intent_drops_a_report_but_never_a_yes(say, runtime, nlu):
    nlu.parses["the party broke up so drop it"] = Parse("cancel", 0.9)
    nlu.parses["yeah lets do it"] = Parse("cancel", 0.96)
    say("pothole at 120 elm st")
    assert say("yeah lets do it").kind != "cancelled"
    assert say("the party broke up so drop it").kind == "cancelled"


def test_cancel_with_a_case_number_goes_to_a_person(say, runtime, nlu):
    nlu.parses["please withdraw 311-000042"] = Parse("cancel", 0.9)
    assert say("please withdraw 311-000042").kind == "handoff"


def test_the_read_back_and_the_stored_state_carry_the_redacted_words(say, runtime):
    reply = say("pothole at 5 elm st, my card 4111 1111 1111 1111 fell in it")
    assert reply.kind == "confirm" and "4111" not in reply.text
    with runtime.Session() as session:
        conv = session.scalars(select(Conversation)).one()
    assert "4111" not in str(conv.state)
