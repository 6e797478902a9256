"""Photos by MMS end to end: signed webhooks into gunicorn (real Rasa, real database), the media
job against the Twilio stand-in, and what ends up stored. One gunicorn for the module."""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from sqlalchemy import select

from cases.db import make_engine, make_session_factory
from cases.media_models import Artifact, Photo
from cases.migrate import upgrade
from cases.models import Case
from outbound.media_worker import drain
from outbound.twilio_media import TwilioMedia
from scripts.chat import post
from tests.integration.conftest import gunicorn
from tests.photo_helpers import GPS_IFD, phone_exif
from tests.twilio_standin import TwilioStandIn

pytestmark = pytest.mark.rasa
TOKEN = "photos-e2e-token"
CASE_RE = re.compile(r"311-\d{6}")
_sids = itertools.count(1)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('photos') / 'civicline.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield url, make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def server(database, rasa_server):
    with gunicorn(database[0], rasa_server, TOKEN) as base:
        yield base


@pytest.fixture(scope="module")
def standin():
    server = TwilioStandIn()
    yield server
    server.close()


@pytest.fixture
def sessions(database):
    return database[1]


@pytest.fixture
def work(sessions, standin):
    """Run the media job dry, as `make run`'s worker would."""
    media = TwilioMedia(standin.account_sid, standin.auth_token, standin.url)
    return lambda: drain(session_factory=sessions, media=media)


def photo_bytes(width: int = 1200, height: int = 900) -> bytes:
    """A phone's JPEG: GPS and camera EXIF, taken sideways (orientation 6)."""
    image = Image.new("RGB", (width, height), (90, 110, 130))
    image.paste((220, 30, 30), (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=phone_exif(orientation=6))
    return out.getvalue()


def mms(server, sender: str, body: str, urls: list[str], sid: str | None = None) -> str:
    """One signed inbound MMS (every attachment, as Twilio numbers them); the reply text."""
    form = {
        "MessageSid": sid or f"MM{next(_sids):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15550100311",
        "Body": body,
        "NumMedia": str(len(urls)),
    }
    for n, url in enumerate(urls):
        form[f"MediaUrl{n}"], form[f"MediaContentType{n}"] = url, "image/jpeg"
    xml = post(server, server, TOKEN, "/twilio/sms", form)
    return " ".join(m.text or "" for m in ET.fromstring(xml).iter("Message"))


def case_photos(sessions, number: str) -> list[Photo]:
    with sessions() as s:
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        return list(s.scalars(select(Photo).where(Photo.case_id == case.id).order_by(Photo.id)))


def test_a_photo_alone_becomes_a_report_stored_without_exif(server, standin, sessions, work):
    url = standin.add_media(photo_bytes())
    asked = mms(server, "+15550107001", "", [url])
    assert "What problem does it show" in asked
    assert "Elm Street" in mms(server, "+15550107001", "there's a pothole on elm st", [])
    assert "Pothole at 120 Elm Street" in mms(server, "+15550107001", "in front of 120", [])
    number = CASE_RE.search(mms(server, "+15550107001", "yes", [])).group(0)
    work()
    [photo] = case_photos(sessions, number)
    assert (photo.status, photo.review, photo.twilio_url, photo.work) == (
        "ready",
        "pending",
        None,
        None,
    )
    with sessions() as s:
        image_bytes = bytes(s.get(Artifact, photo.image_key).data)
        thumb = Image.open(io.BytesIO(bytes(s.get(Artifact, photo.thumb_key).data)))
    image = Image.open(io.BytesIO(image_bytes))
    assert image.size == (900, 1200)  # upright: the orientation was applied
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
    assert b"iPhone" not in image_bytes and max(thumb.size) == 320
    assert url.removeprefix(standin.url) in standin.deleted  # Twilio's copy is gone


def test_a_retried_mms_stores_each_photo_once(server, standin, sessions, work):
    urls = [standin.add_media(photo_bytes(300, 200)) for _ in range(2)]
    sid = "MM" + "e" * 32
    first = mms(server, "+15550107002", "pothole at 5 pine st", urls, sid=sid)
    again = mms(server, "+15550107002", "pothole at 5 pine st", urls, sid=sid)
    assert first == again
    with sessions() as s:
        assert len(list(s.scalars(select(Photo).where(Photo.message_sid == sid)))) == 2
    work()
    paths = [u.removeprefix(standin.url) for u in urls]
    assert sorted(standin.media_gets.count(p) for p in paths) == [1, 1]  # fetched once each
    assert all(p in standin.deleted and p not in standin.media for p in paths)


def test_photo_with_a_case_number_adds_to_it_and_the_sixth_is_refused(
    server, standin, sessions, work
):
    sender = "+15550107003"
    mms(server, sender, "streetlight out at 10 pine st", [])
    number = CASE_RE.search(mms(server, sender, "yes", [])).group(0)
    added = mms(server, sender, f"photo {number}", [standin.add_media(photo_bytes(200, 200))])
    assert number in added and "added" in added
    four = [standin.add_media(photo_bytes(200, 200)) for _ in range(4)]
    assert "added" in mms(server, sender, f"photo {number}", four)
    sixth = standin.add_media(photo_bytes(200, 200))
    refused = mms(server, sender, f"photo {number}", [sixth])
    assert "already has 5 photos" in refused
    gets_before = len(standin.media_gets)
    work()
    kept = case_photos(sessions, number)
    assert len(kept) == 5 and all(p.status == "ready" for p in kept)
    assert len(standin.media_gets) - gets_before == 5  # the refused one is never downloaded
    assert sixth.removeprefix(standin.url) in standin.deleted  # but Twilio's copy still goes
