"""Alembic migrations: the models match them, and they upgrade a database that holds data."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from cases.models import Base
from settings import ROOT


def config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    return cfg


def test_models_and_migrations_agree(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_keeps_existing_rows_and_downgrade_works(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(config(url), "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO conversations (id, channel, sender, status, state, started_at, "
                "last_activity_at, handoff_status) VALUES (1, 'sms', '+1555', 'active', '{}', "
                "'2026-11-01 10:00:00', '2026-11-01 10:00:00', 'none')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO cases (id, service_request_id, service_code, service_name, "
                "status, agency_responsible, description, attributes, requested_datetime, "
                "updated_datetime, source, conversation_id) VALUES (1, '311-000001', "
                "'PW-POTHOLE', 'Pothole', 'open', 'DPW', 'x', '{}', '2026-11-01 10:00:00', "
                "'2026-11-01 10:00:00', 'sms', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO turns (id, conversation_id, message_id, channel, text, entities, "
                "reply, reply_kind, received_at, replied_at, case_id) "
                "VALUES (1, 1, 'SM1', 'sms', 'hi', "
                "'[]', 'ok', 'x', '2026-11-01 10:00:00', '2026-11-01 10:00:00', 1)"
            )
        )
    command.upgrade(config(url), "head")
    with engine.connect() as conn:
        assert conn.execute(text("select service_request_id from cases")).scalar() == "311-000001"
        # 0015: an open case is 'received' and gets a public page token
        status, token = conn.execute(text("select status, public_token from cases")).one()
        assert status == "received" and token and len(token) == 6
        assert conn.execute(text("select count(*) from turns")).scalar() == 1
    command.downgrade(config(url), "base")
    command.upgrade(config(url), "head")
