"""The dialogue state of one conversation, typed, and stored as JSON on the conversation row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    """Where a conversation is: what the bot is waiting for."""

    IDLE = "idle"
    COLLECTING = "collecting"  # filling a report's slots
    CONFIRMING = "confirming"  # the report was read back; waiting for yes, no or a change
    OFFER_SMS = "offer_sms"  # a call filed a case; texting the number?
    AWAITING_CASE = "awaiting_case"  # asked for a case number
    DANGER_CHECK = "danger_check"  # asked "is anyone in danger right now?"
    PHOTO_PROBLEM = "photo_problem"  # a photo came alone: asked what problem it shows


class Slot(StrEnum):
    """What a question in a report asks for."""

    LOCATION = "location"  # a street (with a number or cross street if possible)
    PRECISION = "precision"  # a house number or cross street on the known street
    DESCRIPTION = "description"
    ATTRIBUTE = "attribute"  # one of the service's Open311 attributes (see `attribute`)


@dataclass
class Report:
    """A report being made: the service and every slot filled so far."""

    service: str  # the catalogue intent
    first_text: str = ""
    description: str | None = None
    street: str | None = None
    number: str | None = None
    cross: str | None = None
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    precise: bool = False
    precision_skipped: bool = False
    attributes: dict[str, str] = field(default_factory=dict)

    def clear_place(self) -> None:
        """Forget the place (a correction names a different one)."""
        self.street = self.number = self.cross = self.address = None
        self.lat = self.long = None
        self.precise = self.precision_skipped = False


@dataclass
class DialogueState:
    """Everything the bot remembers between two messages of one conversation."""

    step: Step = Step.IDLE
    report: Report | None = None
    pending: Slot | None = None
    attribute: str | None = None  # the attribute asked for when pending is ATTRIBUTE
    tries: int = 0  # failed answers to the current question
    misses: int = 0  # messages in a row the bot did not understand
    no_input: int = 0  # silent or unclear voice turns in a row
    last_question: str | None = None  # what a caller is asked again after silence
    case: str | None = None  # the case number a call may text (OFFER_SMS)
    paused: Step | None = None  # the step a danger check interrupted
    held: dict[str, Any] | None = None  # the message a danger check held back (text, parse)
    photos: list[int] = field(default_factory=list)  # photos for the report being made (ids)
    notice: int | None = None  # the city notice that says this report's problem is known

    @property
    def in_report(self) -> bool:
        """Whether a report is being made (collecting, read back, or paused by a danger check)."""
        making = (Step.COLLECTING, Step.CONFIRMING)
        step = self.paused if self.step == Step.DANGER_CHECK else self.step
        return self.report is not None and step in making

    def reset(self) -> None:
        """Drop everything: back to the menu."""
        self.__dict__.update(DialogueState().__dict__)

    def to_json(self) -> dict[str, Any]:
        """The JSON stored on the conversation (defaults left out, so rows stay small)."""
        data: dict[str, Any] = {}
        for name, default in _DEFAULT.items():  # as asdict(), without its generic recursion
            value = getattr(self, name)
            if value != default:
                data[name] = _copied(vars(value) if name == "report" else value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DialogueState:
        """Read the stored JSON back; unknown or malformed state starts afresh."""
        data = _copied(data or {})  # never share objects with the loaded row
        try:
            report = data.pop("report", None)
            state = cls(**{k: v for k, v in data.items() if k in _STATE_FIELDS})
            state.step = Step(state.step)
            state.pending = Slot(state.pending) if state.pending else None
            state.paused = Step(state.paused) if state.paused else None
            if report:
                known = {k: v for k, v in report.items() if k in _REPORT_FIELDS}
                state.report = Report(**known)
            return state
        except (TypeError, ValueError):
            return cls()


def _copied(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars): what deepcopy does for it, cheaper."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


# Read on every turn (twice): worked out once. _DEFAULT is only compared with, never changed.
_DEFAULT = asdict(DialogueState())
_STATE_FIELDS = frozenset(f.name for f in fields(DialogueState))
_REPORT_FIELDS = frozenset(f.name for f in fields(Report))
