"""Compliance keywords, dialogue controls and the emergency safety net."""

from __future__ import annotations

import pytest

from bot.keywords import (
    compliance_keyword,
    is_cancel,
    is_no,
    is_skip,
    is_yes,
    looks_like_emergency,
)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "opt_out"),
        ("stop.", "opt_out"),
        (" Stop! ", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("STOPALL", "opt_out"),
        ("quit", "opt_out"),
        ("START", "opt_in"),
        ("YES", "opt_in"),
        ("unstop", "opt_in"),
        ("HELP", "help"),
        ("INFO", "help"),
        ("info?", "help"),
        ("stop the noise", None),
        ("help me", None),
        ("stop all", None),
        ("yes please", None),
        ("there's a pothole", None),
    ],
)
def test_compliance_keyword(text, keyword):
    assert compliance_keyword(text) == keyword


@pytest.mark.parametrize(
    "text",
    ["no", "Nope", "cancel", "Cancel that", "start over", "never mind", "nevermind", "forget it"],
)
def test_is_cancel(text):
    assert is_cancel(text)


@pytest.mark.parametrize("text", ["yes", "ok", "cancel the noise", "no, it's on elm", "not sure"])
def test_is_not_cancel(text):
    assert not is_cancel(text)


@pytest.mark.parametrize(
    ("text", "yes", "no", "skip"),
    [
        ("yes", True, False, False),
        ("Yes!", True, False, False),
        ("yep.", True, False, False),
        ("Si", True, False, False),
        ("go ahead", True, False, False),
        ("no", False, True, False),
        ("No thanks", False, True, False),
        ("wrong", False, True, False),
        ("skip", False, False, True),
        ("IDK", False, False, True),
        ("I don't know", False, False, True),
        ("n/a", False, False, True),
        ("not sure", False, False, True),
        ("yes it is on elm street", False, False, False),
        ("maybe", False, False, False),
    ],
)
def test_yes_no_skip(text, yes, no, skip):
    assert (is_yes(text), is_no(text), is_skip(text)) == (yes, no, skip)


@pytest.mark.parametrize(
    "text",
    [
        "my house is on fire",
        "There's a fire in the kitchen",
        "someone got shot",
        "someone was stabbed",
        "he is not breathing",
        "my kid isn't breathing",
        "someone is breaking in",
        "I smell gas",
        "a man has a gun",
        "call 911",
    ],
)
def test_clear_emergencies(text):
    assert looks_like_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "there's a fire hydrant leaking",
        "there is a fire lane blocked",
        "fire hydrant is open",
        "the streetlight is out",
        "the fire station siren is loud",
        "there's a fire pit burning next door",
        "power is out",
        "car parked in the fire lane",
    ],
)
def test_not_emergencies(text):
    assert not looks_like_emergency(text)


@pytest.mark.parametrize("text", ["pothole on fire lane", "truck parked on fire lane"])
def test_fire_lane_is_not_an_emergency(text):
    assert not looks_like_emergency(text)


@pytest.mark.parametrize("text", ["my neighbor overdosed", "someone is overdosing", "overdose"])
def test_overdose_is_an_emergency(text):
    assert looks_like_emergency(text)
