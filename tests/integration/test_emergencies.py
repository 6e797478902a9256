"""Emergency recall and precision through the real engine, Rasa and database.

tests/emergency/: dev.yml and dev2.yml tuned the lexicon (data/danger.yml) and thresholds;
heldout.yml was written afterwards and never tuned on. A message counts as flagged when the
bot's reply tells the resident to call 911 ("call 911 now", or "is anyone in danger? if so,
call 911"). Every set must reach recall 100% and precision 95%; mid-report, the same messages
typed as the answer to "where on Elm Street?" must get 911 advice and never a case.

A set's `language:` (English if absent) says how it is measured: through the engine and Rasa
for a language the NLU is trained on (NLU_LANGUAGES), otherwise by the lexicon alone as the
engine applies it (street names blanked, then data/danger.yml), since an English model's
guesses on Spanish would measure nothing. es_dev.yml tuned the Spanish lexicon; es_heldout.yml
was written before any Spanish pattern existed and never tuned on.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.engine import Turn
from bot.safety import Danger
from cases.models import Case
from runtime import build_runtime

pytestmark = pytest.mark.rasa
SETS = Path(__file__).parents[1] / "emergency"
ADVISED = {"emergency", "danger_check"}
NLU_LANGUAGES = {"en", "es"}  # measured through the whole bot with that language's model
MIN_SIZE = {"en": 75}  # messages of each kind a set needs; 40 for a newer language
SUMMARY: list[str] = []
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, rasa_server, rasa_server_es):
    from cases.migrate import upgrade
    from settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('emergencies') / 'civicline.db'}"
    upgrade(url)
    settings = Settings.from_env({}, database_url=url)
    rt = build_runtime(
        replace(
            settings,
            rasa_url=rasa_server.url,
            rasa_token=rasa_server.token,
            rasa_language_urls={"es": rasa_server_es.url},
        )
    )
    yield rt
    rt.db.dispose()


def reply_kind(runtime, text: str, *, mid_report: bool = False) -> str:
    """What the bot does with this message, as a new message or as an answer mid-report."""
    sender = f"+1555{8000000 + next(_numbers):07d}"
    with runtime.Session() as s:
        if mid_report:
            first = runtime.bot.handle(Turn("sms", sender, "pothole on elm st"), db_session=s)
            assert first.kind == "question"
        reply = runtime.bot.handle(Turn("sms", sender, text), db_session=s)
        if mid_report:  # a resident who answers "yes" to whatever comes next files nothing
            runtime.bot.handle(Turn("sms", sender, "yes"), db_session=s)
    return reply.kind


def flagged(runtime, text: str, language: str) -> bool:
    """Whether the resident is told to call 911: by the whole bot, or by the words alone."""
    if language in NLU_LANGUAGES:
        return reply_kind(runtime, text) in ADVISED
    place_free = runtime.bot.streets.without_streets(text)
    return runtime.bot.safety.lexicon(place_free).level > Danger.NONE


@pytest.mark.parametrize("name", ["dev", "dev2", "heldout", "es_dev", "es_heldout"])
def test_recall_and_precision(runtime, name):
    data = yaml.safe_load((SETS / f"{name}.yml").read_text(encoding="utf-8"))
    dangers, routine = data["emergencies"], data["not_emergencies"]
    language = data.get("language", "en")
    size = MIN_SIZE.get(language, 40)
    assert len(dangers) >= size and len(routine) >= size
    missed = [t for t in dangers if not flagged(runtime, t, language)]
    alarms = [t for t in routine if flagged(runtime, t, language)]
    caught = len(dangers) - len(missed)
    recall, precision = caught / len(dangers), caught / (caught + len(alarms))
    how = "" if language in NLU_LANGUAGES else f"  [{language}: lexicon only, no NLU model]"
    SUMMARY.append(
        f"  {name:<10} recall {recall:.3f} ({caught}/{len(dangers)})  precision {precision:.3f} "
        f"({len(alarms)} false alarms in {len(routine)} routine messages){how}"
    )
    assert not missed, f"emergencies missed: {missed}"
    assert precision >= 0.95, f"false alarms: {alarms}"


def test_emergencies_typed_mid_report_are_never_filed(runtime):
    data = yaml.safe_load((SETS / "heldout.yml").read_text())
    dangers = data["emergencies"]
    missed = [t for t in dangers if reply_kind(runtime, t, mid_report=True) not in ADVISED]
    with runtime.Session() as s:
        filed = s.scalar(select(func.count()).select_from(Case))
    advised = len(dangers) - len(missed)
    SUMMARY.append(f"  mid-report: {advised}/{len(dangers)} advised, {filed} filed")
    assert not missed and filed == 0, missed
