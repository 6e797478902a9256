"""Whole scripted conversations (tests/conversations.yml) through gunicorn, Rasa and a database.

Each conversation is one test; the floors (95% overall, every emergency) are checked last, and
success by category is printed at the end of `make test` (tests/conftest.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.service import create_case
from settings import ROOT
from tests import conversation_runner as runner
from tests.integration.conftest import gunicorn

pytestmark = pytest.mark.rasa
TOKEN = "conversation-test-token"
SCRIPTS = [s for lang, path in runner.LANGUAGES.items() for s in runner.load(path, lang)]
RESULTS: dict[str, runner.Result] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory, rasa_server, rasa_server_es):
    """gunicorn (2 workers) on one database for every conversation, with case 311-000001."""
    url = f"sqlite:///{tmp_path_factory.mktemp('conversations') / 'civicline.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        create_case(
            db_session=s,
            service_code="PW-POTHOLE",
            service_name="Pothole",
            agency_responsible="Department of Public Works",
            description="Pothole in the right lane",
            source="open311",
            address="12 Oak Street",
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
    with gunicorn(url, rasa_server, TOKEN, rasa_server_es=rasa_server_es) as base:
        yield base, sessions
    engine.dispose()


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            s,
            id=s.id,
            marks=[pytest.mark.xfail(reason=s.known_issue, strict=True)] if s.known_issue else [],
        )
        for s in SCRIPTS
    ],
)
def test_conversation(served, script):
    base, sessions = served
    sender = f"+1555{7000000 + SCRIPTS.index(script):07d}"
    replies = runner.replay(base, TOKEN, script, sender)
    with sessions() as s:
        ok, why = runner.judge(s, script, sender)
    RESULTS[script.id] = runner.Result(script, ok, "" if ok else why, replies)
    assert ok, f"{why}\nresident: {script.turns}\nbot: {replies}"


def test_success_rates_meet_the_floors():
    if len(RESULTS) < len(SCRIPTS):
        pytest.skip("run with the whole conversation file")
    results = list(RESULTS.values())
    rates = runner.rates(results)
    out = ROOT / "reports" / "conversations.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "rates": rates,
                "failed": [
                    {"id": r.script.id, "why": r.why, "replies": r.replies}
                    for r in results
                    if not r.ok
                ],
            },
            indent=2,
        )
    )
    ok, total = rates["overall"]
    assert ok / total >= 0.95, runner.table(results)
    assert rates["emergency"][0] == rates["emergency"][1], runner.table(results)
