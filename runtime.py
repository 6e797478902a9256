"""The running app's parts, built once from settings: store, NLU client, catalogue and engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalog import Catalog
from bot.engine import Engine
from bot.knowledge import KnowledgeBase
from bot.locations import StreetDirectory
from bot.safety import DangerDetector
from cases.db import make_engine, make_session_factory
from cases.deadlines import CityCalendar
from cases.fix_checks import FixCheckRules
from nlu.client import NLU, LanguageRouter
from nlu.fleet import Rotation
from settings import Settings
from wording import Wording, load_catalogues


@dataclass
class Runtime:
    """Everything a request needs; held in app.extensions['civicline']."""

    settings: Settings
    db: DbEngine
    Session: sessionmaker[Session]
    nlu: NLU
    catalog: Catalog
    kb: KnowledgeBase
    streets: StreetDirectory
    bot: Engine
    fix_checks: FixCheckRules = field(default_factory=FixCheckRules)  # "Is it fixed?"


def fix_check_rules(settings: Settings) -> FixCheckRules:
    """When "Is it fixed?" is asked and how long its answer counts, from the settings."""
    return FixCheckRules(
        timezone=settings.timezone,
        hours=settings.text_hours,
        delay=timedelta(hours=settings.fix_check_delay_hours),
        answer_window=timedelta(days=settings.fix_check_answer_days),
    )


def city_calendar(settings: Settings) -> CityCalendar:
    """The city's clock and business days (data/holidays.yml) for due dates."""
    return CityCalendar.load(settings.data_dir / "holidays.yml", settings.timezone)


def build_runtime(settings: Settings, nlu: NLU | None = None) -> Runtime:
    """Load the data files, connect the store and the NLU, and assemble the engine."""
    catalogues = load_catalogues(settings.data_dir / "messages")  # refuses a missing message
    languages = tuple(sorted(catalogues))
    catalog = Catalog.load(settings.data_dir / "services.yml", languages)
    calendar = city_calendar(settings)
    for each in (catalog, *catalog.translations.values()):
        each.calendar = calendar
    kb = KnowledgeBase.load(settings.data_dir / "knowledge_base.yml", languages)
    wording = Wording(
        settings.city_name,
        settings.city_phone,
        catalogues,
        service_names={
            lang: {s.service_code: s.service_name for s in catalog.localized(lang).services}
            for lang in languages
        },
        site=settings.public_url,
    )
    streets = StreetDirectory.load(settings.data_dir / "streets.csv")
    db = make_engine(settings.database_url)
    sessions = make_session_factory(db)
    nlu = nlu or LanguageRouter.from_urls(
        settings.rasa_urls(),
        settings.rasa_token,
        timeout=settings.nlu_timeout,
        skip=Rotation(sessions, settings.machine),  # replicas the reconciler is swapping
    )
    fix_checks = fix_check_rules(settings)
    bot = Engine(
        catalog=catalog,
        kb=kb,
        streets=streets,
        nlu=nlu,
        safety=DangerDetector.load(settings.data_dir / "danger.yml"),
        wording=wording,
        conversation_timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        asr_min_confidence=settings.asr_min_confidence,
        fix_checks=fix_checks,
    )
    return Runtime(settings, db, sessions, nlu, catalog, kb, streets, bot, fix_checks)
