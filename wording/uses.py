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
    "STATUS_OPEN": BOTH,
    "STATUS_CLOSED": BOTH,
    "STATUS_CHANGED": SMS,
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
    # photos by MMS (bot/photos.py; the refusals found after download: outbound/media_worker.py)
    "PHOTO_ASK_PROBLEM": SMS,
    "PHOTO_KEPT_ONE": SMS,
    "PHOTO_KEPT_MANY": SMS,
    "PHOTO_LIMIT": SMS,
    "PHOTO_NOT_IMAGE": SMS,
    "PHOTO_ONLY_NOT_IMAGE": SMS,
    "PHOTO_ADDED_TO_CASE": SMS,
    "PHOTO_CASE_UNKNOWN": SMS,
    "PHOTO_CASE_FULL": SMS,
    "PHOTO_TOO_BIG": SMS,
    "PHOTO_UNREADABLE": SMS,
}
