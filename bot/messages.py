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
    "Sorry, I'm having trouble reading messages right now, and I've saved yours. "
    "Please try again in a few minutes or call {phone}. Emergencies: call 911."
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
    "Thanks! Your report is filed as case {number} ({service}, {agency}). {next_steps} "
    'Text "status {number}" anytime for updates.'
)
OPT_OUT = (
    "You're unsubscribed from {city} 311 texts and won't get more messages. "
    "Reply START to resubscribe. Emergencies: call 911."
)
OPT_IN = "You're resubscribed to {city} 311 texts. " + MENU
HELP = (
    "{city} 311: report problems, ask questions or check a case by text. "
    "Msg&data rates may apply. Reply STOP to opt out. Call {phone}. Emergencies: call 911."
)
