"""Photos: each defence of docs/security.md's "Photos" (no SSRF, nothing public before approval,
blur for the public, staff actions signed in with CSRF, Twilio's URLs never shown, strangers
cannot use up a case's places)."""

# ruff: noqa: F811  (the fixtures imported from tests.photo_fixtures are test arguments)
from __future__ import annotations

import io

from PIL import Image, ImageChops
from sqlalchemy import select

from cases import public_photos
from cases.admin_models import AuditEntry
from cases.models import Case
from cases.public_photos import approved_photos
from tests.photo_fixtures import (  # noqa: F401  (fixtures)
    all_photos,
    app,
    filed_with_photo,
    media,
    post,
    ready_case,
    runtime,
    sam,
    text,
    work,
)
from tests.photo_helpers import phone_jpeg


def test_a_url_off_the_twilio_host_is_never_fetched(runtime, work, standin, caplog):
    secret = "http://169.254.169.254/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    text(runtime, "", secret)
    text(runtime, "", standin.url + "/2010-04-01/Accounts/ACsomeoneelse/Messages/M/Media/ME")
    work()
    for photo in all_photos(runtime):
        assert photo.status == "failed" and photo.twilio_url is None and photo.work is None
        assert "not fetched" in photo.last_error and "169.254" not in photo.last_error
    assert standin.media_gets == [] and "169.254" not in caplog.text


def test_photos_are_public_only_once_approved_and_hidden_again(
    app, runtime, standin, work, sam, settings
):
    number, photo = ready_case(runtime, standin, work)
    public, thumb = public_photos.public_paths(photo)
    anyone = app.test_client()
    assert anyone.get(public).status_code == 404 and anyone.get(thumb).status_code == 404
    api = anyone.get(f"/open311/v2/requests/{number}.json").get_json()[0]
    assert api["media_url"] is None
    page = f"/console/cases/{number}"
    html = sam.get(page).get_data(as_text=True)
    assert f"/console/photos/{photo.id}/thumb" in html and "pending review" in html
    assert sam.get(f"/console/photos/{photo.id}/thumb").status_code == 200
    assert (
        post(sam, f"/console/photos/{photo.id}/review", {"review": "approved"}, page).status_code
        == 302
    )
    got = anyone.get(public)
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert dict(Image.open(io.BytesIO(got.data)).getexif()) == {}
    assert anyone.get(thumb).status_code == 200
    api = anyone.get(f"/open311/v2/requests/{number}.json").get_json()[0]
    assert api["media_url"] == settings.public_url + public
    listed_response = anyone.get("/open311/v2/requests.json")
    assert standin.url not in listed_response.get_data(as_text=True)  # never Twilio's URL
    listed = listed_response.get_json()
    assert [r["media_url"] for r in listed] == [settings.public_url + public]
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
        [shown] = approved_photos(s, case)
    assert (shown.kind, shown.url, shown.thumbnail_url) == ("before", public, thumb)
    post(sam, f"/console/photos/{photo.id}/review", {"review": "hidden"}, page)
    assert anyone.get(public).status_code == 404
    with runtime.Session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["photo.approve", "photo.hide"]
    assert standin.url not in html  # Twilio's URL is shown nowhere


def test_a_blurred_region_is_blurred_for_the_public_only(app, runtime, standin, work, sam):
    number, photo = ready_case(runtime, standin, work, texture=True)
    page = f"/console/cases/{number}"
    post(sam, f"/console/photos/{photo.id}/review", {"review": "approved"}, page)
    region = {"x": "0", "y": "0", "w": "25", "h": "50"}
    assert post(sam, f"/console/photos/{photo.id}/blur", region, page).status_code == 302
    public = Image.open(
        io.BytesIO(app.test_client().get(public_photos.public_paths(photo)[0]).data)
    )
    original = Image.open(io.BytesIO(sam.get(f"/console/photos/{photo.id}/image").data))
    changed = ImageChops.difference(public.convert("RGB"), original.convert("RGB"))
    assert changed.crop((0, 0, 100, 100)).getbbox() is not None  # the region
    assert max(max(band) for band in changed.crop((150, 120, 400, 200)).getextrema()) < 40
    [photo] = all_photos(runtime)
    assert photo.blurs == [{"x": 0.0, "y": 0.0, "w": 25.0, "h": 50.0}]
    with runtime.Session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "photo.blur")).one()
    assert audit.actor_name == "sam" and audit.detail["region"]["w"] == 25.0
    post(sam, f"/console/photos/{photo.id}/unblur", {}, page)
    assert all_photos(runtime)[0].public_key is None


def test_photo_actions_need_a_signed_in_member_of_staff_and_the_csrf_token(
    app, runtime, standin, work, sam
):
    _, photo = ready_case(runtime, standin, work)
    anyone = app.test_client()
    assert anyone.get(f"/console/photos/{photo.id}/image").status_code == 302  # to sign in
    assert (
        anyone.post(f"/console/photos/{photo.id}/review", data={"review": "approved"}).status_code
        == 400
    )
    assert (
        sam.post(f"/console/photos/{photo.id}/review", data={"review": "approved"}).status_code
        == 400
    )
    assert all_photos(runtime)[0].review == "pending"


def test_a_redirect_off_twilio_is_not_followed(runtime, work, standin):
    filed_with_photo(runtime, standin)
    standin.media_redirect = "http://127.0.0.2:9/latest/meta-data/iam"
    work()
    [photo] = all_photos(runtime)
    assert photo.status == "failed" and "redirected to a host that is not allowed" in (
        photo.last_error or ""
    )
    assert "127.0.0.2" not in photo.last_error and photo.twilio_url is None


def test_a_stranger_cannot_add_photos_to_someones_case(runtime, standin):
    number = filed_with_photo(runtime, standin)
    reply = text(runtime, f"photo {number}", standin.add_media(phone_jpeg()), sender="+15550100666")
    assert reply.kind == "photo_refused" and number in reply.text
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
    assert [p.case_id for p in all_photos(runtime)] == [case.id, None]


def test_only_signed_in_staff_may_send_a_photo_sized_body(app, runtime, standin, sam):
    """The upload form takes 5 MB; anyone else gets the app's 64 KB limit (413), before the
    CSRF check would read (and spool to disk) a body nobody signed in sent."""
    number = filed_with_photo(runtime, standin)
    body = {"photo": (io.BytesIO(b"\0" * 1024 * 1024), "big.jpg"), "kind": "after"}
    anyone = app.test_client()
    assert anyone.post(f"/console/cases/{number}/photos", data=body).status_code == 413
    page = f"/console/cases/{number}"
    upload = {
        "photo": (io.BytesIO(phone_jpeg((1600, 1200), texture=True)), "after.jpg"),
        "kind": "after",
    }
    assert post(sam, f"/console/cases/{number}/photos", upload, page).status_code == 302
    assert [p.uploaded_by for p in all_photos(runtime) if p.source == "staff"] == ["sam"]
