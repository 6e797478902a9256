"""The same store on PostgreSQL (DATABASE_URL): migrations, a conversation, races, the API."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from app import create_app
from bot.engine import Turn
from cases.api_keys import create_api_key
from cases.db import make_engine
from cases.migrate import upgrade
from cases.models import Base, Case, Conversation, utcnow
from cases.models import Turn as TurnRow
from cases.outbox import claim_due, enqueue_sms
from tests.fakes import FakeNLU
from tests.postgres_server import PostgresServer
from tests.unit.test_remember_language import check_remembering

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    upgrade(server.url)
    yield server
    server.stop()


@pytest.fixture
def app(postgres, settings):
    app = create_app(replace(settings, database_url=postgres.url), nlu=FakeNLU())
    rt = app.extensions["civicline"]
    with rt.Session() as s, s.begin():  # each test starts empty
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(table.delete())
    yield app
    rt.db.dispose()


def say(rt, text, sender="+15550100001", sid=None):
    with rt.Session() as s:
        return rt.bot.handle(
            Turn("sms", sender, text, sid or f"SMpg{next(_ids):028d}"), db_session=s
        )


def test_migrations_match_the_models_on_postgres(postgres):
    engine = make_engine(postgres.url)
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_report_is_filed_and_a_retry_replays(app):
    rt = app.extensions["civicline"]
    say(rt, "pothole at 120 elm st")
    first = say(rt, "yes", sid="SMpg-retry")
    again = say(rt, "yes", sid="SMpg-retry")
    assert first.kind == "filed" and again.replayed and again.text == first.text
    with rt.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        case = s.scalars(select(Case)).one()
    assert case.requested_datetime.tzinfo is not None and case.address == "120 Elm Street"


def test_concurrent_first_messages_share_one_conversation(app):
    rt = app.extensions["civicline"]
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda i: say(rt, "hello", sender="+15550100077"), range(4)))
    assert all(r.kind == "greeting" for r in replies)
    with rt.Session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
        assert s.scalar(select(func.count()).select_from(TurnRow)) == 4


def test_outbox_claims_skip_locked_rows(app):
    rt = app.extensions["civicline"]
    with rt.Session() as s, s.begin():
        for i in range(3):
            enqueue_sms(db_session=s, to=f"+1555010000{i}", body="x", reason="test")
    with rt.Session() as one, one.begin(), rt.Session() as two, two.begin():
        first = claim_due(db_session=one, now=utcnow(), limit=2)
        second = claim_due(db_session=two, now=utcnow(), limit=2)
    assert len(first) == 2 and len(second) == 1
    assert not {m.id for m in first} & {m.id for m in second}


def test_open311_and_console_search_on_postgres(app):
    rt = app.extensions["civicline"]
    with rt.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="pg")
    client = app.test_client()
    resp = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "PW-POTHOLE",
            "address_string": "5 oak ave",
            "description": "100% deep_hole",
        },
    )
    assert resp.status_code == 201
    found = client.get("/open311/v2/requests.json?service_code=PW-POTHOLE").get_json()
    assert [r["address"] for r in found] == ["5 Oak Avenue"]
    from cases.review import ConversationFilters, list_conversations

    say(rt, "when is trash pickup 100% sure")
    with rt.Session() as s:
        rows, _ = list_conversations(db_session=s, filters=ConversationFilters(search="100%"))
        none, _ = list_conversations(db_session=s, filters=ConversationFilters(search="1000"))
    assert len(rows) == 1 and none == []


def test_is_it_fixed_on_postgres_two_answers_at_once_reopen_once(app):
    from datetime import timedelta

    from cases.admin_models import User
    from cases.fix_checks import FixCheckRules
    from cases.lifecycle import Change, update_case
    from cases.models import FixCheck, OutboundMessage
    from cases.stats import dashboard
    from cases.users import create_user

    rt = app.extensions["civicline"]
    say(rt, "pothole at 120 elm st", sender="+15550100088")
    number = say(rt, "yes", sender="+15550100088").case_number
    with rt.Session() as s, s.begin():
        create_user(db_session=s, username="pg", password="x" * 12, role="supervisor")
    with rt.Session() as s, s.begin():
        update_case(
            db_session=s,
            case=s.scalars(select(Case).where(Case.service_request_id == number)).one(),
            change=Change("closed", resolution="fixed", public_note="Filled."),
            actor=s.scalars(select(User)).one(),
            wording=rt.bot.wording,
            fix_checks=FixCheckRules(hours=(0, 1440), delay=timedelta(0)),
        )
        for message in s.scalars(select(OutboundMessage)):  # as the worker would record them
            message.status, message.sent_at = "sent", utcnow()
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda i: say(rt, "2", sender="+15550100088"), range(2)))
    assert [r.kind for r in replies].count("fix_reopened") == 1
    with rt.Session() as s:
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        assert (case.status, case.reopen_count) == ("reopened", 1)
        assert s.scalars(select(FixCheck.answer)).one() == "no"
        assert dashboard(db_session=s).outcomes.reopen_rate == 1.0


def test_photos_on_postgres_once_per_retry_claims_skip_locked_bytes_round_trip(app):
    from bot.dialogue import Media
    from cases import photo_jobs
    from cases.artifacts import open_store
    from cases.media_models import Photo

    rt = app.extensions["civicline"]
    urls = [
        f"https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME{i}" for i in (1, 2)
    ]
    turn = Turn(
        "sms", "+15550100088", "", "MMpg-retry", media=tuple(Media(u, "image/jpeg") for u in urls)
    )

    def send(_: int) -> str:
        with rt.Session() as s:
            return rt.bot.handle(turn, db_session=s).text

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, range(4)))
    assert len(set(replies)) == 1 and "What problem" in replies[0]
    with rt.Session() as one, one.begin(), rt.Session() as two, two.begin():
        assert one.scalar(select(func.count()).select_from(Photo)) == 2
        first = photo_jobs.claim_due(db_session=one, now=utcnow(), limit=2)
        second = photo_jobs.claim_due(db_session=two, now=utcnow(), limit=2)
    assert len(first) == 2 and second == []
    data = bytes(range(256)) * 10
    with rt.Session() as s, s.begin():
        open_store(s).put("photo/pg/x.jpg", data, "image/jpeg")
    with rt.Session() as s:
        assert open_store(s).get("photo/pg/x.jpg").data == data


def test_training_data_on_postgres_seeds_once_refuses_a_racing_duplicate_and_exports(app):
    from cases.nlu_models import TrainingDataSeed, TrainingExample
    from nlu import training_store
    from nlu.training_data import TrainingDataError, parse
    from nlu.training_store import Change

    rt = app.extensions["civicline"]
    seed_file = parse((rt.settings.data_dir / "nlu.yml").read_text())

    def seed(_: int) -> int:
        with rt.Session() as s, s.begin():
            return len(training_store.ensure_seeded(db_session=s).intents)

    with ThreadPoolExecutor(3) as pool:  # three machines' first page views at once
        assert set(pool.map(seed, range(3))) == {len(seed_file.intents)}
    with rt.Session() as s:
        assert s.scalar(select(func.count()).select_from(TrainingDataSeed)) == 1
        assert s.scalar(select(func.count()).select_from(TrainingExample)) == sum(
            len(v) for v in seed_file.intents.values()
        )

    def add(intent: str) -> str:
        try:
            training_store.save(
                sessions=rt.Session,
                change=Change("add", intent, "a sofa dumped on the corner of 9th and vine"),
                actor=None,
                validator=None,
            )
            return "saved"
        except TrainingDataError as exc:
            return str(exc)

    with ThreadPoolExecutor(2) as pool:  # two admins, two intents, the same words
        outcomes = sorted(pool.map(add, ["illegal_dumping", "abandoned_vehicle"]))
    assert outcomes[0] == "saved" and outcomes[1].startswith("this example is already in")
    training_store.save(
        sessions=rt.Session,
        change=Change(
            "edit",
            "pothole",
            "a pothole the size of a bathtub on 9th st",
            seed_file.intents["pothole"][0],
        ),
        actor=None,
        validator=None,
    )
    exported = app.test_cli_runner().invoke(args=["nlu", "export"]).output
    pothole = parse(exported).intents["pothole"]
    assert pothole[0] == "a pothole the size of a bathtub on 9th st"
    assert pothole[1:] == seed_file.intents["pothole"][1:]
    assert "a sofa dumped on the corner of 9th and vine" in exported


def test_a_numbers_language_is_remembered_by_one_upsert_on_postgres(app):
    check_remembering(app.extensions["civicline"].Session)
