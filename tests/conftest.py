"""Shared fixtures: a migrated database per test, settings pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from nlu.rasa_cli import ROOT, ensure_model
from nlu.server import RasaServer
from settings import Settings

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://311.riverton.example.gov"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite database (WAL) brought to the newest schema with Alembic."""
    url = f"sqlite:///{tmp_path / 'civicline.db'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test app: its own database, a known Twilio token and public URL."""
    return Settings.from_env(
        {},
        database_url=database_url,
        twilio_auth_token=AUTH_TOKEN,
        public_url=PUBLIC_URL,
        twilio_account_sid="AC" + "0" * 32,
        rate_limits=False,  # tests/security/test_limits.py turns them on
        public_cache_seconds=0,
    )


@pytest.fixture
def db_session(database_url: str):
    """A session on the test database."""
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="session")
def rasa_model():
    """The model for config.yml + data/nlu.yml (trained once, then cached by fingerprint)."""
    return ensure_model()


@pytest.fixture(scope="session")
def rasa_server(rasa_model):
    """A real `rasa run --enable-api` on loopback, warmed up, for the whole session."""
    server = RasaServer(rasa_model, log_path=ROOT / "reports" / "rasa-server-tests.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rasa_model_es():
    """The Spanish model for config.es.yml + data/es/nlu.yml (trained once, then cached)."""
    return ensure_model("es")


@pytest.fixture(scope="session")
def rasa_server_es(rasa_model_es, rasa_server):
    """A real Spanish `rasa run --enable-api` beside the English one, sharing its token."""
    server = RasaServer(
        rasa_model_es,
        token=rasa_server.token,
        language="es",
        log_path=ROOT / "reports" / "rasa-server-es-tests.log",
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rasa_pair(rasa_model, tmp_path_factory):
    """Two more Rasa servers (replicas, or one per simulated machine) sharing a token, for the
    activation and retraining tests; each test loads the model it starts from."""
    logs = tmp_path_factory.mktemp("rasa-pair")
    servers = [
        RasaServer(rasa_model, token="pair-token", log_path=logs / f"{i}.log").spawn()
        for i in range(2)
    ]
    for server in servers:
        server.wait_ready(240)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def standin():
    """A local stand-in for Twilio's REST API that records the messages sent to it."""
    from tests.twilio_standin import TwilioStandIn

    server = TwilioStandIn()
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """Print what residents feel: conversation success by category, emergency recall."""
    import sys

    conversations = sys.modules.get("tests.integration.test_conversations")
    if conversations is not None and conversations.RESULTS:
        from tests import conversation_runner

        terminalreporter.write_sep("=", "conversations")
        terminalreporter.write_line(conversation_runner.table(list(conversations.RESULTS.values())))
    emergencies = sys.modules.get("tests.integration.test_emergencies")
    if emergencies is not None and emergencies.SUMMARY:
        terminalreporter.write_sep("=", "emergency detection")
        for line in emergencies.SUMMARY:
            terminalreporter.write_line(line)
