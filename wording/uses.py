"""The messages the code uses and on which channels: every locale must have each one there.

A unit test reads the code for message names and fails if one is missing here, so a message
the code uses cannot be missing from any catalogue without `make test` failing.
"""

from __future__ import annotations

SMS = frozenset({"sms"})
VOICE = frozenset({"voice"})
BOTH = SMS | VOICE

USES: dict[str, frozenset[str]] = {
    # the menu and the simple answers (bot/engine.py SIMPLE and friends)
    "MENU": BOTH,
    "GREETING": BOTH,
    "REPROMPT": BOTH,
    "ANYTHING_ELSE": BOTH,
    "THANKS": BOTH,
    "GOODBYE": BOTH,
    "NOTHING_TO_CANCEL": BOTH,
    "CANCELLED": BOTH,
    "NO_INPUT": BOTH,
    "LANGUAGE_CHANGED": BOTH,
    # safety and people
    "EMERGENCY": BOTH,
    "DANGER_CHECK": BOTH,
    "HANDOFF": BOTH,
    "HANDOFF_AFTER_MISSES": BOTH,
    "HOLDING": BOTH,
    "NLU_DOWN": BOTH,
    "WEBHOOK_ERROR": BOTH,
    "LATER_ANSWER": SMS,
    # SMS compliance keywords
    "OPT_OUT": SMS,
    "OPT_IN": SMS,
    "HELP": SMS,
    # cases by number
    "ASK_CASE_NUMBER": BOTH,
    "ASK_CASE_AGAIN": BOTH,
    "CASE_UNKNOWN": BOTH,
    "CASE_STATUS": BOTH,
    "CASE_RECEIVED": BOTH,
    "AT_PLACE": BOTH,
    "STATUS_RECEIVED": BOTH,
    "STATUS_ASSIGNED": BOTH,
    "STATUS_ASSIGNED_TO": BOTH,
    "STATUS_IN_PROGRESS": BOTH,
    "STATUS_REOPENED": BOTH,
    "STATUS_CLOSED": BOTH,
    "STATUS_CLOSED_AS": BOTH,
    "RESOLUTION_FIXED": BOTH,
    "RESOLUTION_DUPLICATE": BOTH,
    "RESOLUTION_REFERRED": BOTH,
    "RESOLUTION_NO_ACTION_NEEDED": BOTH,
    "RESOLUTION_UNABLE_TO_ACT": BOTH,
    "FOLLOWING": SMS,
    "ALREADY_FOLLOWING": SMS,
    "FOLLOW_WHICH": SMS,
    "STATUS_CHANGED": SMS,
    # "Is it fixed?" after a closing as fixed (cases/fix_checks.py, bot/fixcheck.py)
    "FIX_CHECK_QUESTION": SMS,
    "FIX_REOPENED": SMS,
    "FIX_REOPENED_AGAIN": SMS,
    "FIX_THANKS_RATE": SMS,
    "FIX_RATED": SMS,
    "FIX_RATING_SKIPPED": SMS,
    "STATUS_NOTE": SMS,
    # making a report
    "UNKNOWN_STREET": BOTH,
    "LOCATION": VOICE,
    "ASK_PRECISION_STREET": BOTH,
    "ASK_PRECISION_BUILDING": BOTH,
    "ASK_AGAIN": BOTH,
    "ANSWER_CHOICES": BOTH,
    "SAY_CHOICES": VOICE,
    "CONFIRM": BOTH,
    "CONFIRM_AGAIN": BOTH,
    "SUMMARY_PLACE": BOTH,
    "SUMMARY_ANSWER": BOTH,
    "SUMMARY_DETAILS": BOTH,
    "CHANGED": BOTH,
    "ASIDE": BOTH,
    "FILED": BOTH,
    "DUPLICATE_NOTE": BOTH,
    "CASE_NUMBER_SMS": SMS,
    # what only a call has
    "WELCOME": VOICE,
    "NOBODY_ANSWERED": VOICE,
    "KEYPAD": VOICE,
    "KEYPAD_REPORT": VOICE,
    "KEYPAD_INFO": VOICE,
    "SMS_SENT": VOICE,
    "SMS_DECLINED": VOICE,
    "ANSWER_MORE": VOICE,
    "ANSWER_LINK": SMS,
    "ANSWER_PHONE": SMS,
    "OFFER_SMS_AGAIN": BOTH,
    "TEXT_ME": VOICE,
    "TEXT_ME_SMS": SMS,
    "TEXT_ME_NO_PHONE": VOICE,
}
