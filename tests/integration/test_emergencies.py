"""Emergency recall and precision through the real engine, Rasa and database.

tests/emergency/: dev.yml and dev2.yml tuned the lexicon (data/danger.yml) and thresholds;
heldout.yml was written afterwards and never tuned on. A message counts as flagged when the
bot's reply tells the resident to call 911 ("call 911 now", or "is anyone in danger? if so,
call 911"). Every set must reach recall 100% and precision 95%; mid-report, the same messages
typed as the answer to "where on Elm Street?" must get 911 advice and never a case.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.engine import Turn
from cases.models import Case
from runtime import build_runtime

pytestmark = pytest.mark.rasa
SETS = Path(__file__).parents[1] / "emergency"
ADVISED = {"emergency", "danger_check"}
SUMMARY: list[str] = []
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, rasa_server):
    from cases.migrate import upgrade
    from settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('emergencies') / 'civicline.db'}"
    upgrade(url)
    settings = Settings.from_env({}, database_url=url)
    rt = build_runtime(replace(settings, rasa_url=rasa_server.url, rasa_token=rasa_server.token))
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


@pytest.mark.parametrize("name", ["dev", "dev2", "heldout"])
def test_recall_and_precision(runtime, name):
    data = yaml.safe_load((SETS / f"{name}.yml").read_text())
    dangers, routine = data["emergencies"], data["not_emergencies"]
    assert len(dangers) >= 75 and len(routine) >= 75
    missed = [t for t in dangers if reply_kind(runtime, t) not in ADVISED]
    alarms = [t for t in routine if reply_kind(runtime, t) in ADVISED]
    caught = len(dangers) - len(missed)
    recall, precision = caught / len(dangers), caught / (caught + len(alarms))
    SUMMARY.append(
        f"  {name:<8} recall {recall:.3f} ({caught}/{len(dangers)})  precision {precision:.3f} "
        f"({len(alarms)} false alarms in {len(routine)} routine messages)"
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
