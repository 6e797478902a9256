"""What one turn works with: the message in, the reply out, and the conversation in between."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.knowledge import Answer
from bot.state import DialogueState
from cases import conversations
from cases.models import Case, Conversation
from nlu.client import Parse
from wording import Wording

CONFIDENT = 0.4  # the same as config.yml's FallbackClassifier threshold (a test checks)
MAX_TRIES = 3  # failed answers to one question before a human takes over

# What a call does after a reply of each kind (texts have no such step).
CALL_ACTIONS = {"emergency": "hangup", "closing": "hangup", "handoff": "dial", "keypad": "keypad"}


def call_action(kind: str, channel: str) -> str | None:
    """The call step a reply of this kind takes on this channel (None: keep listening)."""
    return CALL_ACTIONS.get(kind) if channel == "voice" else None


@dataclass(frozen=True)
class Media:
    """One attachment of a message (an MMS photo): where the provider keeps it, and its type."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Turn:
    """A channel-neutral inbound message (an SMS, or one spoken or keyed answer on a call)."""

    channel: str
    sender: str
    text: str
    message_id: str | None = None
    asr_confidence: float | None = None
    digits: str | None = None
    call_sid: str | None = None
    media: tuple[Media, ...] = ()


@dataclass(frozen=True)
class Reply:
    """What the bot answers, and what happened.

    action: None (wait for the next message), "hangup", "dial" (connect a person) or "keypad"
    (offer keypad input). keys: whether a keypad answer fits what was asked (calls).
    """

    text: str
    kind: str
    case_number: str | None = None
    replayed: bool = False
    action: str | None = None
    keys: bool = False
    language: str = "en"


@dataclass
class Dialogue:
    """One turn in progress: the conversation, what was said and understood, and the state."""

    conversation: Conversation
    text: str  # what the resident said, redacted (voice: spoken numbers as digits)
    parse: Parse | None
    now: datetime
    turn: Turn
    state: DialogueState
    wording: Wording
    case: Case | None = None
    language: str = "en"
    photos: list[int] = field(default_factory=list)  # this message's photos taken (row ids)
    refused: int = 0  # this message's attachments refused as not images

    @property
    def intent(self) -> str | None:
        return self.parse.intent if self.parse else None

    @property
    def voice(self) -> bool:
        return self.turn.channel == "voice"

    def confident(self, intent: str) -> bool:
        """Whether the NLU names this intent at the running bot's threshold."""
        return bool(
            self.parse and self.parse.intent == intent and self.parse.confidence >= CONFIDENT
        )

    def words(self, name: str, **values: Any) -> str:
        """A message's wording on this turn's channel, in the conversation's language."""
        return self.wording.text(name, self.turn.channel, self.language, **values)

    def answer(self, answer: Answer) -> str:
        """A knowledge-base answer as this channel gives it (a text adds its link and number)."""
        if self.voice:
            return answer.spoken
        parts = [answer.answer]
        if answer.link and answer.link not in answer.answer:
            parts.append(self.words("ANSWER_LINK", link=answer.link))
        if answer.phone and answer.phone not in answer.answer:
            parts.append(self.words("ANSWER_PHONE", number=answer.phone))
        return " ".join(parts)

    def say(self, name: str, kind: str, **values: Any) -> Reply:
        """Reply with a catalogue message."""
        return Reply(self.words(name, **values), kind)

    def handoff(self, reason: str, name: str = "HANDOFF", **values: Any) -> Reply:
        """Put the conversation in the staff queue (a call is connected to a person)."""
        self.state.reset()
        conversations.request_handoff(self.conversation, reason=reason, now=self.now)
        return self.say(name, "handoff", **values)

    def retry(self, name: str, kind: str, **values: Any) -> Reply:
        """Ask again, up to MAX_TRIES, then hand the conversation to a person."""
        self.state.tries += 1
        if self.state.tries >= MAX_TRIES:
            return self.handoff("stuck", "HANDOFF_AFTER_MISSES")
        return self.say(name, kind, **values)
