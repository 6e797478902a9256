"""The running app's parts, built once from settings: store, NLU client, catalogue and engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalog import Catalog
from bot.engine import Engine
from bot.knowledge import KnowledgeBase
from bot.locations import StreetDirectory
from bot.safety import DangerDetector
from cases.db import make_engine, make_session_factory
from nlu.client import NLU, LanguageRouter
from settings import Settings


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


def build_runtime(settings: Settings, nlu: NLU | None = None) -> Runtime:
    """Load the data files, connect the store and the NLU, and assemble the engine."""
    catalog = Catalog.load(settings.data_dir / "services.yml")
    kb = KnowledgeBase.load(settings.data_dir / "knowledge_base.yml")
    streets = StreetDirectory.load(settings.data_dir / "streets.csv")
    nlu = nlu or LanguageRouter.from_urls(
        settings.rasa_urls(), settings.rasa_token, timeout=settings.nlu_timeout
    )
    db = make_engine(settings.database_url)
    bot = Engine(
        catalog=catalog,
        kb=kb,
        streets=streets,
        nlu=nlu,
        safety=DangerDetector.load(settings.data_dir / "danger.yml"),
        city_name=settings.city_name,
        city_phone=settings.city_phone,
        conversation_timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        asr_min_confidence=settings.asr_min_confidence,
    )
    return Runtime(settings, db, make_session_factory(db), nlu, catalog, kb, streets, bot)
