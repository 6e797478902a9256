"""Compliance keywords and plain yes, no and skip answers."""

from __future__ import annotations

import pytest

from bot.keywords import (
    compliance_keyword,
    is_no,
    is_skip,
    is_yes,
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
