"""Answers that clearly are what the bot asked for, so the turn needs no NLU parse.

Only the whole message counts: a yes or a no to a yes/no question, a choice's number, an
address on the street list (with a little filler such as "it's at"), or a case number. Anything
more ("actually it's a noise complaint", "yes there's a fire") is parsed as before, and the
engine's emergency check and global commands run on every turn whatever this module says.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import keywords
from bot.catalog import Catalog
from bot.dialogue import Turn
from bot.locations import StreetDirectory, tokens
from bot.state import DialogueState, Slot, Step
from cases.conversations import ConversationView

# Words a resident may put before an address without it being anything but an address.
ADDRESS_FILLER = re.compile(
    r"^(?:(?:it'?s|it is|its|that'?s|the address is|address is|address|located|i'?m|i am)\b\s*)?"
    r"(?:(?:at|on)\b)?\s*[:,-]?\s*",
    re.IGNORECASE,
)
CASE_ANSWER = re.compile(r"^(?:(?:case|caso|number|número|numero|#)\s*)*[#:]?\s*", re.I)
CHOICE = re.compile(r"^\d{1,2}$")

Check = Callable[[str, DialogueState, str], bool]


class ExpectedAnswers:
    """Whether a message is cleanly the answer the conversation's open question waits for."""

    def __init__(self, *, catalog: Catalog, streets: StreetDirectory):
        self.catalog = catalog
        self.streets = streets

    def answered(
        self, conversation: ConversationView | None, turn: Turn, text: str, language: str
    ) -> bool:
        """Whether this message cleanly answers its live conversation's open question."""
        if conversation is None or not conversation.state or turn.media or not text.strip():
            return False
        if conversation.handoff_status != "none":
            return False  # staff are answering: whatever is said goes the usual way
        return self.clear(text, DialogueState.from_json(conversation.state), language)

    def clear(self, text: str, state: DialogueState, language: str) -> bool:
        """True when the message is exactly the expected form of answer (no parse needed)."""
        check = self._checks().get(_waiting_for(state))
        return bool(check and text.strip() and check(text, state, language))

    def _checks(self) -> dict[str, Check]:
        return {
            "yes_no": is_yes_or_no,
            "choice": self.is_choice,
            "address": self.is_address,
            "case_number": is_case_number,
        }

    def is_choice(self, text: str, state: DialogueState, language: str) -> bool:
        """A choice's number ("2") for a question with numbered choices."""
        said = keywords.normalise(text)
        if not (CHOICE.match(said) and state.report and state.attribute):
            return False
        service = self.catalog.by_intent.get(state.report.service)
        if service is None:
            return False
        values = service.attribute(state.attribute).values
        return 1 <= int(said) <= len(values)

    def is_address(self, text: str, state: DialogueState, language: str) -> bool:
        """The whole message is an address or intersection on the street list."""
        return whole_address(self.streets, text)


def _waiting_for(state: DialogueState) -> str | None:
    """Which kind of answer the open question takes (None: no clear form)."""
    if state.step in (Step.CONFIRMING, Step.OFFER_SMS, Step.DANGER_CHECK):
        return "yes_no"
    if state.step == Step.AWAITING_CASE:
        return "case_number"
    if state.step != Step.COLLECTING or state.report is None:
        return None
    if state.pending == Slot.ATTRIBUTE:
        return "choice"
    if state.pending in (Slot.LOCATION, Slot.PRECISION):
        return "address"
    return None  # a description is free text: the NLU hears it (it may be a new request)


def is_yes_or_no(text: str, state: DialogueState, language: str) -> bool:
    """A plain yes or no, in the conversation's language or English."""
    return keywords.is_yes(text, language=language) or keywords.is_no(text, language=language)


def is_case_number(text: str, state: DialogueState, language: str) -> bool:
    """A case number alone ("311-000123", "case 311000123")."""
    said = keywords.normalise(text)
    rest = said[CASE_ANSWER.match(said).end() :]  # type: ignore[union-attr]
    return bool(keywords.CASE_NUMBER.fullmatch(rest))


def whole_address(streets: StreetDirectory, text: str) -> bool:
    """Every word of the message (after filler) is the address the street list reads in it."""
    said = ADDRESS_FILLER.sub("", keywords.normalise(text), count=1)
    if not said or not said[0].isalnum():
        return False
    found = streets.find(said, strict=True).location
    return found is not None and tokens(said) == tokens(found.address)
