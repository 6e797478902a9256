"""Photo test fixtures (fake NLU, the Twilio stand-in, the media job) and helpers.

Imported by the photo test modules (`from tests.photo_fixtures import *`-style, by name).
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app import create_app
from bot.dialogue import Media
from bot.engine import Turn
from cases.media_models import Artifact, Photo
from outbound.media_worker import drain, make_wording
from outbound.twilio_media import TwilioMedia
from tests.console_helpers import add_staff, csrf, sign_in
from tests.fakes import FakeNLU
from tests.photo_helpers import phone_jpeg

PHONE = "+15550100077"
_sids = itertools.count(1)


@pytest.fixture
def app(settings, standin):
    """The app over a fresh database with a keyword NLU (no Rasa)."""
    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def runtime(app):
    return app.extensions["civicline"]


@pytest.fixture
def media(settings, standin):
    """Twilio's media endpoints, on the stand-in, with the account's credentials."""
    return TwilioMedia(settings.twilio_account_sid, settings.twilio_auth_token, standin.url)


@pytest.fixture
def work(runtime, media, settings):
    """Run the media job until nothing is due."""

    def _work(**kwargs) -> int:
        return drain(
            session_factory=runtime.Session, media=media, wording=make_wording(settings), **kwargs
        )

    return _work


@pytest.fixture
def sam(app):
    """A signed-in supervisor."""
    add_staff(app.extensions["civicline"])
    client = app.test_client()
    assert sign_in(client, "sam").status_code == 302
    return client


def text(runtime, body: str, *urls: str, sender: str = PHONE, content_type: str = "image/jpeg"):
    """One SMS through the engine, with attachments at these URLs."""
    turn = Turn(
        "sms",
        sender,
        body,
        f"SM{next(_sids):032x}",
        media=tuple(Media(u, content_type) for u in urls),
    )
    with runtime.Session() as s:
        return runtime.bot.handle(turn, db_session=s)


def filed_with_photo(runtime, standin, data: bytes | None = None) -> str:
    """A pothole case filed by text with one photo; returns its number."""
    text(runtime, "pothole at 120 elm st", standin.add_media(data or phone_jpeg()))
    return text(runtime, "yes").case_number


def ready_case(runtime, standin, work, texture: bool = False) -> tuple[str, Photo]:
    """A filed case whose photo the job has stored."""
    number = filed_with_photo(runtime, standin, phone_jpeg((400, 200), texture=texture))
    work()
    return number, all_photos(runtime)[0]


def all_photos(runtime) -> list[Photo]:
    with runtime.Session() as s:
        return list(s.scalars(select(Photo).order_by(Photo.id)))


def stored(runtime, key: str) -> bytes:
    with runtime.Session() as s:
        return bytes(s.get(Artifact, key).data)


def post(client, path: str, data: dict, page: str):
    """A console form post with the page's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})
