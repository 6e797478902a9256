"""The language a number last used: written on a change only, asked-for never lost to a guess."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from cases.conversations import remember_language, remembered_language
from cases.db import make_engine, make_session_factory
from cases.models import ResidentLanguage, utcnow

PHONE = "+15550100777"


def check_remembering(sessions: sessionmaker[Session]) -> None:
    """The rules, on whichever database `sessions` opens (also run on PostgreSQL)."""
    t0 = utcnow().replace(microsecond=0)

    def remember(language: str, chosen: bool, minutes: int) -> ResidentLanguage:
        with sessions() as s, s.begin():
            when = t0 + timedelta(minutes=minutes)
            remember_language(db_session=s, phone=PHONE, language=language, chosen=chosen, now=when)
        with sessions() as s:
            row = s.get(ResidentLanguage, PHONE)
            assert row is not None
            s.expunge(row)
            return row

    first = remember("es", False, 0)
    assert (first.language, first.chosen, first.updated_at) == ("es", False, t0)
    same = remember("es", False, 5)  # the same again: nothing is written
    assert same.updated_at == t0
    asked = remember("es", True, 10)  # asked for by name: now chosen
    assert (asked.language, asked.chosen) == ("es", True)
    assert asked.updated_at == t0 + timedelta(minutes=10)
    guessed = remember("es", False, 15)  # a later guess of the same language keeps "chosen"
    assert (guessed.chosen, guessed.updated_at) == (True, t0 + timedelta(minutes=10))
    switched = remember("en", False, 20)  # another language spoken: that one, not chosen
    assert (switched.language, switched.chosen) == ("en", False)
    assert switched.updated_at == t0 + timedelta(minutes=20)

    with sessions() as s, s.begin():  # read earlier in the same session, then changed
        assert remembered_language(db_session=s, phone=PHONE) == "en"
        remember_language(db_session=s, phone=PHONE, language="es", chosen=True, now=t0)
        assert remembered_language(db_session=s, phone=PHONE) == "es"


def test_a_numbers_language_is_kept_by_the_rules(database_url):
    engine = make_engine(database_url)
    try:
        check_remembering(make_session_factory(engine))
    finally:
        engine.dispose()
