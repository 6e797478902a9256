"""Redaction of card numbers, SSNs and security codes."""

from __future__ import annotations

import pytest

from cases.redact import redact

CARD = "[card number removed]"


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555 5555 5555 4444",
        "6011 0009 9013 9424",
        "378282246310005",  # 15-digit Amex
    ],
)
def test_luhn_valid_card_numbers_are_removed(card):
    assert redact(f"my card is {card}, thanks") == f"my card is {CARD}, thanks"


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails the Luhn check
        "1234567890123",
        "order 12345678901234567890",
        "case 311-000123",
        "case 311-0001234567",
        "call 555-010-0311",
        "call (555) 010-0311",
        "text +15550100311",
    ],
)
def test_other_numbers_are_kept(text):
    assert redact(text) == text


@pytest.mark.parametrize("ssn", ["123-45-6789", "123 45 6789"])
def test_ssn_is_removed(ssn):
    assert redact(f"my ssn is {ssn} ok") == "my ssn is [ssn removed] ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cvv 123", "cvv [removed]"),
        ("CVV: 1234", "CVV [removed]"),
        ("my cvc is 321", "my cvc [removed]"),
        ("security code is 999", "security code [removed]"),
    ],
)
def test_security_code_is_removed(text, expected):
    assert redact(text) == expected


def test_card_and_security_code_together():
    assert redact("card 4111111111111111 cvv 123") == f"card {CARD} cvv [removed]"


@pytest.mark.parametrize("after", ["12/27", "123", "10/26 cvv 123"])
def test_card_followed_by_more_digits_is_removed(after):
    assert "4111" not in redact(f"pay with 4111 1111 1111 1111 {after}")


def test_security_code_after_is_colon():
    assert redact("the cvc is: 123") == "the cvc [removed]"
