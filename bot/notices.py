"""City notices in conversations: ALERTS lists them, ALERTS <topic> <address> subscribes,
ALERTS OFF stops; a knowledge-base answer or a call's welcome starts with the active ones."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot import keywords
from bot.catalog import Catalog
from bot.dialogue import Dialogue, Reply
from bot.locations import StreetDirectory, address_text
from cases import notices
from wording import Wording

MAX_LISTED = 3  # an SMS lists at most this many notices (newest first)


def command(d: Dialogue) -> tuple[str, str, str] | None:
    """What an ALERTS message asks for (texts only), or None."""
    if d.voice:
        return None
    return keywords.alerts_command(d.text)


def reply(
    d: Dialogue,
    found: tuple[str, str, str],
    db_session: Session,
    *,
    catalog: Catalog,
    streets: StreetDirectory,
) -> Reply:
    """List the active notices, subscribe the number, or end its subscriptions."""
    what, rest, language = found
    if language != d.language:  # "ALERTAS" alone: answered (and subscribed) in Spanish
        d.language = d.conversation.language = language
    phone = d.turn.sender
    if what == "off":
        notices.unsubscribe(db_session=db_session, phone=phone, now=d.now)
        return d.say("ALERTS_OFF", "alerts")
    if what == "list":
        active = notices.active(db_session=db_session, now=d.now)
        if not active:
            return d.say("NOTICES_NONE", "alerts")
        listed = " ".join(
            f"{i}) {notices.text_of(n, d.language)}" for i, n in enumerate(active[:MAX_LISTED], 1)
        )
        return d.say("NOTICES_LIST", "alerts", notices=listed)
    located = streets.find(
        address_text(rest, language=d.language), strict=False, language=d.language
    )
    street = located.location.street.name if located.location else None
    topic_words = streets.without_streets(rest, language=d.language)
    services = topics(catalog.localized(d.language), topic_words)
    notices.subscribe(
        db_session=db_session,
        phone=phone,
        service_codes=[s.service_code for s in services],
        street=street,
        language=d.language,
        source_text=d.text,
        now=d.now,
    )
    return d.say(
        "ALERTS_SUBSCRIBED",
        "alerts",
        topic=", ".join(s.service_name for s in services) or d.words("ALERTS_ALL_TOPICS"),
        where=d.words("ALERTS_ON_STREET", street=street) if street else d.words("ALERTS_CITYWIDE"),
    )


def topics(catalog: Catalog, text: str) -> list:
    """The services a subscription's words name ("trash", "baches"); none: every service."""
    words = set(keywords.normalise(text).split())
    found = []
    for service in catalog.services:
        names = {w.lower() for k in service.keywords for w in k.split()}
        names |= {w.lower() for w in service.service_name.split() if len(w) > 3}
        if words & names:
            found.append(service)
    return found


def lead(d: Dialogue, db_session: Session, intent: str) -> str:
    """The active notices about a knowledge-base topic, as the start of its answer."""
    about = notices.for_topic(db_session=db_session, intent=intent, now=d.now)
    return " ".join(d.words("NOTICE_LEAD", notice=notices.text_of(n, d.language)) for n in about)


def welcome(wording: Wording, language: str, db_session: Session, now) -> str:
    """A call's welcome, with the citywide notices after the emergency advice."""
    city = notices.citywide(db_session=db_session, now=now)
    if not city:
        return wording.text("WELCOME", "voice", language)
    said = " ".join(notices.text_of(n, language) for n in city[:MAX_LISTED])
    return wording.text("WELCOME_NOTICES", "voice", language, notices=said)
