"""Photos in the console: see them, approve or hide them for the public, blur a region, upload.

Every action needs a signed-in member of staff and the form's CSRF token, like every console
form, and is audited (cases/photos.py records it). Staff see any photo here, through these
no-store routes; the public sees only approved ones (/media/, open311/media.py).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, redirect, request, url_for

from cases import images, photos
from cases.media_models import Photo
from cases.models import Case
from console.blueprint import (
    BODY_LIMITS,
    bp,
    get_case_or_404,
    login_required,
    runtime,
    safe_next,
)

VARIANTS = ("image", "thumb", "public", "public-thumb")
UPLOAD_LIMIT = images.MAX_BYTES + 256 * 1024  # the photo plus the form around it


# The upload form alone may post a photo (the app's limit is 64 KB), and only once signed in:
# the limit is raised after the user is loaded and before the CSRF check reads the form.
BODY_LIMITS["console.photo_upload"] = UPLOAD_LIMIT


def _back(number: str | None = None) -> Any:
    """Where the form came from (a case or conversation page), else the photo's case."""
    target = request.form.get("next")
    if target:
        return redirect(safe_next(target))
    if number:
        return redirect(url_for("console.case", number=number))
    return redirect(url_for("console.dashboard"))


@bp.get("/photos/<int:photo_id>/<variant>")
@login_required()
def photo_file(photo_id: int, variant: str) -> Any:
    """A photo's bytes for staff: the cleaned image, its thumbnail, or the public renditions."""
    if variant not in VARIANTS:
        abort(404)
    with runtime().Session() as db_session:
        photo = db_session.get(Photo, photo_id)
        found = photos.staff_file(db_session, photo, variant) if photo else None
    if found is None:
        abort(404)
    return Response(found.data, mimetype=found.content_type)


def _change(photo_id: int, change: Any, done: str) -> Any:
    """Apply one audited change to a photo in one transaction; flash the outcome."""
    number = None
    try:
        with runtime().Session() as db_session, db_session.begin():
            photo = db_session.get(Photo, photo_id)
            if photo is None:
                abort(404)
            case = db_session.get(Case, photo.case_id) if photo.case_id else None
            number = case.service_request_id if case else None
            change(db_session, photo)
    except (photos.PhotoError, ValueError) as exc:
        flash(str(exc), "error")
    else:
        flash(done)
    return _back(number=number)


@bp.post("/photos/<int:photo_id>/review")
@login_required()
def photo_review(photo_id: int) -> Any:
    """Approve a photo for the public, or hide it."""
    review = request.form.get("review", "")

    def change(db_session: Any, photo: Photo) -> None:
        photos.set_review(db_session=db_session, photo=photo, review=review, actor=g.user)

    shown = "approved: the public can see it" if review == "approved" else "hidden from the public"
    return _change(photo_id, change, f"Photo {photo_id} {shown}.")


@bp.post("/photos/<int:photo_id>/blur")
@login_required()
def photo_blur(photo_id: int) -> Any:
    """Blur a rectangle (percent of width and height) of what the public gets."""
    form = request.form

    def change(db_session: Any, photo: Photo) -> None:
        region = images.Region.parse(
            form.get("x", ""), form.get("y", ""), form.get("w", ""), form.get("h", "")
        )
        photos.blur_region(db_session=db_session, photo=photo, region=region, actor=g.user)

    return _change(photo_id, change, f"Photo {photo_id}: region blurred for the public.")


@bp.post("/photos/<int:photo_id>/unblur")
@login_required()
def photo_unblur(photo_id: int) -> Any:
    """Remove every blur (the public would get the cleaned original again)."""

    def change(db_session: Any, photo: Photo) -> None:
        photos.clear_blurs(db_session=db_session, photo=photo, actor=g.user)

    return _change(photo_id, change, f"Photo {photo_id}: blurs removed.")


@bp.post("/cases/<number>/photos")
@login_required()
def photo_upload(number: str) -> Any:
    """Attach a photo to a case (e.g. after the repair); cleaned in the background."""
    upload = request.files.get("photo")
    data = upload.read(images.MAX_BYTES + 1) if upload else b""
    try:
        with runtime().Session() as db_session, db_session.begin():
            case = get_case_or_404(db_session, number)
            photo = photos.upload(
                db_session=db_session,
                case=case,
                data=data,
                kind=request.form.get("kind", "after"),
                actor=g.user,
            )
            photo_id = photo.id
    except photos.PhotoError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Photo {photo_id} uploaded; it is being processed and is not public until approved.")
    return redirect(url_for("console.case", number=number))
