"""The bot's fixed wording (service questions and answers live in data/)."""

from __future__ import annotations

MENU = (
    "I can report a problem (pothole, noise, missed trash, no heat, streetlight and more), "
    "answer questions (trash days, parking, tickets, towed cars, bulk pickup, office hours) "
    "or check a case (text its number, like 311-000123). Emergencies: call 911."
)
GREETING = "Hi, this is {city} 311. " + MENU
REPROMPT = "Sorry, I didn't understand that. " + MENU
EMERGENCY = (
    "This sounds like an emergency. Call 911 now. "
    "{city} 311 can't send help, and I have not filed a report."
)
HANDOFF = (
    "OK, I've asked a {city} 311 staff member to take over. They'll text you back here "
    "(staffed Mon-Fri 8:30am-4:30pm). Emergencies: call 911."
)
HANDOFF_AFTER_MISSES = (
    "I'm sorry, I'm still not sure what you need. I've asked a staff member to text you back "
    "(staffed Mon-Fri 8:30am-4:30pm). Emergencies: call 911."
)
HOLDING = (
    "Thanks, a staff member has your conversation and will reply here. "
    "Reply MENU to go back to the automated assistant. Emergencies: call 911."
)
NLU_DOWN = (
    "Sorry, I'm having trouble reading messages right now. I've saved yours and will text "
    "you an answer as soon as I can, or call {phone}. Emergencies: call 911."
)
LATER_ANSWER = 'Sorry for the wait. About your message "{said}": {answer}'
WEBHOOK_ERROR = (
    "Sorry, something went wrong on our side. I've saved your message and will answer it "
    "soon, or call {phone}. Emergencies: call 911."
)
VOICE_WEBHOOK_ERROR = (
    "Sorry, something went wrong on our side. Please call back in a few minutes, or call "
    "{phone}. If this is an emergency, hang up and dial 9 1 1. Goodbye."
)
CANCELLED = "OK, I've cancelled that. Nothing was filed. " + MENU
THANKS = "You're welcome! Text anytime you need {city} 311."
GOODBYE = "Goodbye! Text anytime you need {city} 311."
ANYTHING_ELSE = "How can I help? " + MENU
ASK_CASE_NUMBER = "What's your case number? It looks like 311-000123."
ASK_CASE_AGAIN = "I need the case number to look it up. It looks like 311-000123. Reply NO to stop."
CASE_UNKNOWN = (
    "I couldn't find case {number}. Please check the number (it looks like 311-000123), "
    "or reply AGENT to talk to a person."
)
CASE_STATUS = "Case {number} ({service}{where}) is {status}. Last update {when}: {notes}"
UNKNOWN_STREET = (
    'I couldn\'t find "{street}" in {city}. Please send the street name with a house number '
    "or cross street, like 120 Elm St or Elm St and Main St."
)
ASK_PRECISION_STREET = (
    "Where on {street}? Send a house number or the nearest cross street, or reply SKIP if you "
    "don't know."
)
ASK_PRECISION_BUILDING = (
    "What's the building's house number on {street}? For example: 120 {street}."
)
ASK_AGAIN = "Sorry, I didn't get that. {question}"
ANSWER_CHOICES = "Please reply with one of the numbers. {question}"
CONFIRM = "Here's your report: {summary} Reply YES to file it or NO to cancel."
CONFIRM_AGAIN = "Please reply YES to file this report or NO to cancel it."
FILED = (
    "Thanks! Your report is filed as case {number} ({service}, {agency}). {duplicate}{next_steps} "
    'Text "status {number}" anytime for updates.'
)
DUPLICATE_NOTE = "This spot was already reported as case {number}; your report is linked to it."
OPT_OUT = (
    "You're unsubscribed from {city} 311 texts and won't get more messages. "
    "Reply START to resubscribe. Emergencies: call 911."
)
OPT_IN = "You're resubscribed to {city} 311 texts. " + MENU
HELP = (
    "{city} 311: report problems, ask questions or check a case by text. "
    "Msg&data rates may apply. Reply STOP to opt out. Call {phone}. Emergencies: call 911."
)

# ---- voice: what the caller hears instead, where the wording differs (same placeholders) ----
VOICE_MENU = (
    "You can report a problem, like a pothole, noise, or a missed trash pickup. You can ask "
    "about trash days, parking, tickets, towed cars, bulk pickup, or office hours. Or you can "
    "check on a case with its number."
)
VOICE_WELCOME = (
    "Thanks for calling {city} 3 1 1. If this is an emergency, hang up and dial 9 1 1. "
    "How can I help you today?"
)
VOICE_GREETING = "Hi, this is {city} 3 1 1. How can I help you today?"
VOICE_REPROMPT = "Sorry, I didn't understand that. " + VOICE_MENU + " What do you need?"
VOICE_EMERGENCY = (
    "This sounds like an emergency. Please hang up now and dial 9 1 1. I have not filed a report."
)
VOICE_HANDOFF = "Please hold while I connect you to a {city} 3 1 1 agent."
VOICE_HANDOFF_AFTER_MISSES = "I'm sorry, I'm having trouble. Please hold for a 3 1 1 agent."
VOICE_HOLDING = VOICE_HANDOFF
VOICE_NLU_DOWN = "Sorry, I'm having trouble right now. Please hold for a 3 1 1 agent."
VOICE_CANCELLED = (
    "OK, I've cancelled that. Nothing was filed. Is there anything else I can help with?"
)
VOICE_THANKS = "You're welcome. Thank you for calling {city} 3 1 1. Goodbye."
VOICE_GOODBYE = "Thank you for calling {city} 3 1 1. Goodbye."
VOICE_ANYTHING_ELSE = "How can I help? " + VOICE_MENU
VOICE_ASK_CASE_NUMBER = (
    "What's your case number? It starts with 3 1 1. You can say it, or type it on your keypad."
)
VOICE_ASK_CASE_AGAIN = (
    "Please say or type the case number. It starts with 3 1 1. Or say no to stop."
)
VOICE_CASE_UNKNOWN = "I couldn't find case {number}. Is there anything else I can help with?"
VOICE_CASE_STATUS = (
    "Case {number}, {service}{where}, is {status}. Last update {when}: {notes} "
    "Is there anything else I can help with?"
)
VOICE_UNKNOWN_STREET = (
    "I couldn't find {street} in {city}. Please say the street name with a house number, "
    "or the two cross streets."
)
VOICE_LOCATION = (
    "Where is it? Please say the street address, like 1 2 0 Elm Street, or the nearest "
    "intersection, like Elm and Main."
)
VOICE_ASK_PRECISION_STREET = (
    "Where on {street}? Say a house number or the nearest cross street, or say skip."
)
VOICE_ASK_PRECISION_BUILDING = "What's the building's house number on {street}?"
VOICE_ASK_AGAIN = "Sorry, I didn't get that. {question}"
VOICE_ANSWER_CHOICES = "Sorry, I didn't get that. {question}"
VOICE_CONFIRM = (
    "Here's your report: {summary} Say yes to file it, or no to cancel. "
    "You can also press 1 for yes, or 2 for no."
)
VOICE_CONFIRM_AGAIN = "Please say yes to file this report, or no to cancel it. Or press 1 or 2."
VOICE_FILED = (
    "Your report is filed. Your case number is {number}. Again, that's {number}. "
    "{duplicate}{next_steps} "
    "Would you like me to text the case number to this phone? Please say yes or no."
)
NO_INPUT = (
    "I got your message, but there were no words in it (I can't read photos yet). Please tell "
    "me in words what you need. Emergencies: call 911."
)
VOICE_NO_INPUT = "Sorry, I didn't catch that. {question}"
VOICE_KEYPAD = (
    "Sorry, I'm having trouble hearing you. Press 1 to report a problem, 2 for information, "
    "or 0 for an operator."
)
KEYPAD_REPORT = (
    "What problem would you like to report? For example, a pothole, a streetlight out, "
    "or a missed trash pickup."
)
KEYPAD_INFO = (
    "What would you like to know? You can ask about trash pickup, parking rules, paying a "
    "ticket, a towed car, bulk pickup, or office hours."
)
VOICE_SMS_SENT = "OK, I'm texting you the case number now. Is there anything else I can help with?"
VOICE_SMS_DECLINED = "OK. Is there anything else I can help with?"
VOICE_ANSWER_MORE = "{answer} Is there anything else I can help with?"
CASE_NUMBER_SMS = (
    "{city} 311: your {service} report{where} is case {number}. "
    'Text "status {number}" to this number for updates.'
)


# ---- leaving the script: danger checks, corrections, questions asked mid-report ----
DANGER_CHECK = (
    "Is anyone in danger right now? If so, call 911 now. If not, reply NO and I'll carry on."
)
VOICE_DANGER_CHECK = (
    "Is anyone in danger right now? If so, hang up and dial 9 1 1. If not, say no, or press 2."
)
CHANGED = "OK, I've changed that."
NOTHING_TO_CANCEL = "There's nothing to cancel right now. " + MENU
VOICE_NOTHING_TO_CANCEL = (
    "There's nothing to cancel right now. " + VOICE_MENU + " What do you need?"
)
ASIDE = "{answer} Back to your report: {question}"
VOICE_ASIDE = "{answer} Now, back to your report. {question}"


def text(name: str, channel: str) -> str:
    """The wording of a message for a channel: VOICE_<name> on calls when there is one."""
    if channel == "voice":
        spoken = globals().get(f"VOICE_{name}")
        if spoken is not None:
            return str(spoken)
    return str(globals()[name])
