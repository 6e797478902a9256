"""The fast path: a clear answer to the open question is handled without an NLU parse."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from bot.engine import Turn
from bot.expected import whole_address
from bot.locations import StreetDirectory
from cases.models import Case
from settings import ROOT

_ids = itertools.count(1)
STREETS = StreetDirectory.load(ROOT / "data" / "streets.csv")


@pytest.fixture
def talk(runtime, nlu):
    """Send one SMS and return (reply, how many parses it took)."""

    def _talk(text: str, sender: str = "+15550109001"):
        before = len(nlu.calls)
        turn = Turn("sms", sender, text, f"SM{next(_ids):032d}")
        with runtime.Session() as session:
            reply = runtime.bot.handle(turn, db_session=session)
        return reply, len(nlu.calls) - before

    return _talk


def cases(runtime) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_address_and_yes_need_no_parse(talk, runtime):
    assert talk("there's a huge pothole in the road")[1] == 1
    reply, parses = talk("it's at 120 Elm St")
    assert (reply.kind, parses) == ("confirm", 0) and "120 Elm Street" in reply.text
    reply, parses = talk("yes")
    assert (reply.kind, parses) == ("filed", 0) and cases(runtime) == 1


def test_choice_number_and_no_need_no_parse(talk, runtime):
    assert talk("noise complaint at 44 maple ave")[0].kind == "question"  # what kind of noise?
    reply, parses = talk("1")
    assert (reply.kind, parses) == ("confirm", 0) and "music" in reply.text.lower()
    reply, parses = talk("no")
    assert (reply.kind, parses) == ("cancelled", 0) and cases(runtime) == 0


def test_case_number_needs_no_parse(talk):
    assert talk("what's the status of my case")[0].kind == "question"
    reply, parses = talk("311-000001")
    assert parses == 0 and reply.kind != "question"


def test_a_new_request_instead_of_an_address_is_parsed(talk):
    talk("there's a huge pothole in the road")
    reply, parses = talk("actually it's a noise complaint")
    assert parses == 1 and "noise" in reply.text.lower()


def test_yes_with_a_danger_is_an_emergency_not_a_case(talk, runtime):
    talk("there's a huge pothole in the road")
    talk("120 Elm Street")
    reply, _ = talk("yes there's a fire")
    assert reply.kind == "emergency" and cases(runtime) == 0


def test_start_over_and_stop_still_work_mid_question(talk, runtime):
    talk("there's a huge pothole in the road")
    assert talk("start over")[0].kind == "cancelled"
    talk("there's a huge pothole in the road", sender="+15550109002")
    assert talk("STOP", sender="+15550109002")[0].kind == "opt_out"
    assert cases(runtime) == 0


def test_spanish_si_needs_no_parse(talk, runtime):
    assert talk("hay un bache enorme en la calle Elm")[0].language == "es"
    reply, _ = talk("enfrente del 120")
    assert reply.kind == "confirm"
    reply, parses = talk("sí")
    assert (reply.kind, parses) == ("filed", 0) and cases(runtime) == 1


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("120 Elm Street", True),
        ("it's at 120 elm st.", True),
        ("Elm St and Main St", True),
        ("at 44 Maple Avenue", True),
        ("120 Elm Street, there's a fire", False),
        ("near the school on Elm St", False),
        ("actually it's a noise complaint", False),
        ("120 Nowhere Street", False),
    ],
)
def test_whole_address(text, whole):
    assert whole_address(STREETS, text) is whole
