"""Photos after the webhook: the background job against the Twilio stand-in, staff uploads,
the console's pages and retention (fake NLU; no Rasa needed). The defences (SSRF, approval,
sign-in) are tested in tests/security/test_photos_trust.py."""

# ruff: noqa: F811  (the fixtures imported from tests.photo_fixtures are test arguments)
from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from cases import photo_jobs, photos
from cases.admin_models import AuditEntry
from cases.media_models import Artifact
from cases.models import Case, OutboundMessage, utcnow
from outbound.media_worker import drain
from outbound.twilio_media import TwilioMedia
from tests.console_helpers import csrf
from tests.photo_fixtures import (  # noqa: F401  (fixtures)
    PHONE,
    all_photos,
    app,
    filed_with_photo,
    media,
    runtime,
    sam,
    stored,
    text,
    work,
)
from tests.photo_helpers import phone_jpeg

# ---------------------------------------------------------------- the background job


def test_a_texted_photo_is_fetched_cleaned_stored_and_deleted_at_twilio(
    runtime, standin, work, caplog
):
    caplog.set_level(logging.INFO)
    number = filed_with_photo(runtime, standin)
    [path] = list(standin.media)
    assert work() == 1
    [photo] = all_photos(runtime)
    assert (photo.status, photo.work, photo.twilio_url, photo.last_error) == (
        "ready",
        None,
        None,
        None,
    )
    assert photo.case_id is not None and photo.review == "pending"
    image = Image.open(io.BytesIO(stored(runtime, photo.image_key)))
    assert image.format == "JPEG" and dict(image.getexif()) == {} and image.size == (640, 480)
    assert max(Image.open(io.BytesIO(stored(runtime, photo.thumb_key))).size) == 320
    assert standin.deleted == [path] and standin.media == {}
    assert standin.media_gets == [path]
    assert path not in caplog.text and "Media/ME" not in caplog.text  # URLs are never logged
    assert number


def test_a_failed_download_is_retried_with_backoff_then_stored(runtime, standin, work):
    filed_with_photo(runtime, standin)
    standin.media_failures = [503]
    now = utcnow()
    work(clock=lambda: now)
    [photo] = all_photos(runtime)
    assert photo.status == "queued" and photo.last_error == "download failed: HTTP 503"
    assert photo.next_attempt_at > now and photo.attempts == 1
    assert work(clock=lambda: now) == 0  # not due yet
    work(clock=lambda: photo.next_attempt_at)
    [photo] = all_photos(runtime)
    assert photo.status == "ready" and photo.attempts == 2 and standin.deleted


def test_wrong_credentials_are_retried_not_given_up(runtime, standin, settings):
    filed_with_photo(runtime, standin)
    wrong = TwilioMedia(settings.twilio_account_sid, "not-the-token", standin.url)
    drain(session_factory=runtime.Session, media=wrong)
    [photo] = all_photos(runtime)
    assert photo.status == "queued" and "401" in photo.last_error and photo.twilio_url


def test_too_big_is_refused_with_a_text_and_twilios_copy_still_deleted(runtime, standin, work):
    filed_with_photo(runtime, standin, b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10))
    work()
    [photo] = all_photos(runtime)
    assert (photo.status, photo.refusal, photo.case_id, photo.image_key) == (
        "refused",
        "too_big",
        None,
        None,
    )
    assert standin.deleted and photo.twilio_url is None
    with runtime.Session() as s:
        [notice] = s.scalars(
            select(OutboundMessage).where(OutboundMessage.reason == "photo_refused")
        )
    assert notice.to == PHONE and "over 5 MB" in notice.body


def test_bytes_that_are_no_image_are_refused_with_a_text(runtime, standin, work):
    filed_with_photo(runtime, standin, b"<html>not a photo</html>")
    work()
    [photo] = all_photos(runtime)
    assert photo.status == "refused" and photo.refusal == "not_image"
    with runtime.Session() as s:
        [notice] = s.scalars(
            select(OutboundMessage).where(OutboundMessage.reason == "photo_refused")
        )
    assert "couldn't open a photo" in notice.body


def test_a_lease_is_one_workers_and_a_lost_lease_records_nothing(runtime, standin, media):
    filed_with_photo(runtime, standin)
    now = utcnow()
    with runtime.Session() as s, s.begin():
        [first] = photo_jobs.claim_due(db_session=s, now=now)
    with runtime.Session() as s, s.begin():
        assert photo_jobs.claim_due(db_session=s, now=now) == []  # leased
    later = now + photos.LEASE + timedelta(seconds=1)
    with runtime.Session() as s, s.begin():
        [second] = photo_jobs.claim_due(db_session=s, now=later)  # the first worker died
    from cases.images import clean

    cleaned = clean(media.fetch(first.url))
    with runtime.Session() as s, s.begin():
        assert (
            photo_jobs.record_stored(db_session=s, claim=first, cleaned=cleaned, now=later) is None
        )
    with runtime.Session() as s, s.begin():
        assert photo_jobs.record_stored(db_session=s, claim=second, cleaned=cleaned, now=later)
    with runtime.Session() as s:
        assert len(list(s.scalars(select(Artifact)))) == 2  # one image, one thumbnail


def test_a_failed_delete_at_twilio_is_retried_and_the_photo_is_kept(runtime, standin, work):
    filed_with_photo(runtime, standin)

    def refuse_delete(handler) -> None:
        handler._json(500, {"code": 0})

    original = standin.server.RequestHandlerClass.do_DELETE
    standin.server.RequestHandlerClass.do_DELETE = refuse_delete
    now = utcnow()
    work(clock=lambda: now)
    [photo] = all_photos(runtime)
    assert photo.status == "ready" and photo.work == "delete" and photo.twilio_url
    assert photo.last_error == "delete failed: HTTP 500"
    standin.server.RequestHandlerClass.do_DELETE = original
    work(clock=lambda: photo.next_attempt_at)
    [photo] = all_photos(runtime)
    assert photo.work is None and photo.twilio_url is None and standin.deleted


# ---------------------------------------------------------------- staff and the public


def test_staff_upload_an_after_photo_cleaned_like_a_texted_one(runtime, standin, work, sam):
    number = filed_with_photo(runtime, standin)
    page = f"/console/cases/{number}"
    upload = {
        "photo": (io.BytesIO(phone_jpeg((800, 600))), "after.jpg"),
        "kind": "after",
        "csrf_token": csrf(sam, page),
    }
    response = sam.post(f"/console/cases/{number}/photos", data=upload)
    assert response.status_code == 302
    work()
    staff = [p for p in all_photos(runtime) if p.source == "staff"]
    assert [(p.kind, p.status, p.uploaded_by, p.upload_key) for p in staff] == [
        ("after", "ready", "sam", None)
    ]
    image = Image.open(io.BytesIO(stored(runtime, staff[0].image_key)))
    assert dict(image.getexif()) == {}
    with runtime.Session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "photo.upload")).one()
    refused = {
        "photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.pdf"),
        "kind": "after",
        "csrf_token": csrf(sam, page),
    }
    html = sam.post(f"/console/cases/{number}/photos", data=refused, follow_redirects=True)
    assert "not uploaded" in html.get_data(as_text=True)
    assert len([p for p in all_photos(runtime) if p.source == "staff"]) == 1


def test_the_conversation_page_shows_the_texted_photos(runtime, standin, work, sam):
    filed_with_photo(runtime, standin)
    work()
    [photo] = all_photos(runtime)
    html = sam.get(f"/console/conversations/{photo.conversation_id}").get_data(as_text=True)
    assert html.count(f"/console/photos/{photo.id}/thumb") == 2  # in the transcript and below
    assert re.search(r"Approve for the public", html)


def test_retention_deletes_photos_no_case_has_and_keeps_a_cases(runtime, standin, work, tmp_path):
    from cases import retention
    from cases.models import Conversation

    text(runtime, "there's a fire in my kitchen", standin.add_media(phone_jpeg()))  # no case
    filed_with_photo(runtime, standin)  # then a report, in the same conversation
    work()
    kept, dropped = sorted(all_photos(runtime), key=lambda p: p.case_id is None)
    assert kept.case_id is not None and dropped.case_id is None
    later = utcnow() + timedelta(days=400)
    with runtime.Session() as s, s.begin():
        for conv in s.scalars(select(Conversation)):
            conv.status, conv.ended_at = "closed", utcnow()
        s.get(Case, kept.case_id).status = "closed"
    with runtime.Session() as s:
        retention.run(
            db_session=s, now=later, policy=retention.Policy(), model_dir=tmp_path, owner="t"
        )
    [left] = all_photos(runtime)
    assert left.id == kept.id and left.conversation_id is None  # unlinked, kept with its case
    with runtime.Session() as s:
        keys = set(s.scalars(select(Artifact.key)))
    assert keys == {kept.image_key, kept.thumb_key}


def test_an_approved_photo_is_on_the_public_case_page_and_served_without_exif(
    runtime, standin, work, sam
):
    number = filed_with_photo(runtime, standin)
    work()
    [photo] = all_photos(runtime)
    with runtime.Session() as s:
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        page_path = f"/c/{number}-{case.public_token}"
    before = sam.get(page_path).get_data(as_text=True)
    assert 'id="photos"' not in before  # pending review: not public
    sam.post(
        f"/console/photos/{photo.id}/review",
        data={"review": "approved", "csrf_token": csrf(sam, f"/console/cases/{number}")},
    )
    html = sam.get(page_path).get_data(as_text=True)
    [full, thumb] = re.findall(r'<a href="(/media/[^"]+)"><img src="(/media/[^"]+)"', html)[0]
    assert "Before" in html
    image = Image.open(io.BytesIO(sam.get(full).data))
    assert dict(image.getexif()) == {} and image.width > 0
    assert sam.get(thumb).status_code == 200
