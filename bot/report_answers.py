"""The small parts of making a report: yes, no and cancel answers, questions, the read-back."""

from __future__ import annotations

from bot import corrections, keywords
from bot.catalog import Attribute, Service, mention
from bot.dialogue import Dialogue
from bot.locations import Location, unit_number
from bot.state import Report


def said_cancel(d: Dialogue) -> bool:
    """The NLU's cancel intent, unless the message opens with a yes ("yeah let's do it")."""
    return d.confident("cancel") and not corrections.starts_yes(d.text, language=d.language)


def yes_no(d: Dialogue) -> bool | None:
    """A yes or a no (words, the NLU's affirm/deny, or keys 1 and 2), else None."""
    if keywords.is_yes(d.text, language=d.language) or d.intent == "affirm" or d.turn.digits == "1":
        return True
    if keywords.is_no(d.text, language=d.language) or d.intent == "deny" or d.turn.digits == "2":
        return False
    return None


def attribute_question(d: Dialogue, attr: Attribute) -> str:
    """An attribute's question, with numbered choices by text, or said aloud on a call."""
    if not d.voice or not attr.values:
        return attr.question()
    names = [v.name.lower() for v in attr.values]
    return d.words(
        "SAY_CHOICES",
        question=attr.description,
        choices=", ".join(names[:-1]),
        last=names[-1],
        count=len(names),
    )


def put_location(report: Report, loc: Location) -> None:
    """Fill the place slots from a location."""
    report.street = loc.street.name
    report.number = loc.number
    report.cross = loc.cross.name if loc.cross else None
    report.address = loc.address
    report.lat, report.long = loc.lat, loc.long
    report.precise = loc.precise


def summary(d: Dialogue, service: Service, report: Report) -> str:
    """The read-back: service, place, answers and the resident's words."""
    parts = [d.words("SUMMARY_PLACE", service=service.service_name, address=report.address)]
    for attr in service.attributes:
        key = report.attributes.get(attr.code)
        if key is None:
            continue
        name = next((v.name for v in attr.values if v.key == key), key)
        parts.append(d.words("SUMMARY_ANSWER", label=attr.label, value=name))
    details = report.description or report.first_text
    parts.append(d.words("SUMMARY_DETAILS", details=details[:160]))
    return " ".join(parts)


def mentioned_attributes(service: Service, report: Report, text: str, language: str) -> None:
    """Choices the message already names ("no hot water", "bigger than a tire")."""
    for attr in service.attributes:
        if attr.values and (value := mention(attr.values, text)):
            report.attributes[attr.code] = value.key
    mentioned_unit(service, report, text, language)


def mentioned_unit(service: Service, report: Report, text: str, language: str) -> None:
    """An apartment or unit number, for services that ask for one."""
    codes = {a.code for a in service.attributes if not a.values}
    if (
        "unit" in codes
        and "unit" not in report.attributes
        and (unit := unit_number(text, language=language))
    ):
        report.attributes["unit"] = unit
