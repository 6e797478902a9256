"""Security tests reuse the integration fixtures: real Rasa, a fresh database, signed posts."""

from tests.integration.conftest import app, client, sms, sms_post  # noqa: F401
