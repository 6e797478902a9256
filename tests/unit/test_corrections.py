"""Cancelling in the resident's words, and reading corrections out of a message."""

from __future__ import annotations

import pytest

from bot.corrections import corrected_number, is_cancel, is_correction, without_negated


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "Nope",
        "cancel",
        "Cancel that",
        "start over",
        "never mind",
        "nevermind",
        "forget it",
        "oh forget about it, someone already fixed it",
        "nvm they fixed it",
        "don't bother, it's gone now",
        "the landlord turned it back on, never mind",
        "actually the heat came back on",
        "I changed my mind",
        "scratch that",
        "ignore that please",
    ],
)
def test_is_cancel(text):
    assert is_cancel(text)


@pytest.mark.parametrize(
    "text",
    ["yes", "ok", "cancel the noise", "no, it's on elm", "not sure", "120 elm st", "the fire lane"],
)
def test_is_not_cancel(text):
    assert not is_cancel(text)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("the number is 42 not 24", "42"),
        ("42 not 24", "42"),
        ("not 24, it's 42", "42"),
        ("sorry I meant 42", "42"),
        ("no, the house number should be 17", "17"),
        ("yes", None),
        ("Pine Street", None),
    ],
)
def test_corrected_number(text, number):
    assert corrected_number(text) == number


def test_markers_and_negations():
    assert is_correction("sorry, I meant Pine Street")
    assert is_correction("wait it's actually on oak")
    assert not is_correction("120 elm st")
    assert "heat" not in without_negated("both, not only the heat")
