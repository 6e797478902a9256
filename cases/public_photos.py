"""Photos as the public sees them: approved, ready, blurred where staff blurred, under a token.

Nothing here is public until a member of staff approved it (cases/photos.py); Twilio's URLs
and the originals of blurred photos are never reached from these names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.artifacts import Stored, open_store
from cases.media_models import Photo
from cases.models import Case

PUBLIC_NAME = re.compile(r"^([0-9a-f]{32})(-thumb)?\.(jpg|png)$")


@dataclass(frozen=True)
class PublicPhoto:
    """An approved photo as the public may see it (blurred regions already applied)."""

    kind: str  # before | after
    url: str
    thumbnail_url: str
    width: int | None
    height: int | None
    added: str  # ISO 8601, when it came in


def _extension(photo: Photo) -> str:
    """The public image's extension (keys end in the format's: .jpg or .png)."""
    return "png" if (photo.public_key or photo.image_key or "").endswith(".png") else "jpg"


def public_paths(photo: Photo) -> tuple[str, str]:
    """The public paths of a photo: /media/<token>.jpg (or .png) and /media/<token>-thumb.jpg."""
    return f"/media/{photo.token}.{_extension(photo)}", f"/media/{photo.token}-thumb.jpg"


def _public(photo: Photo, base_url: str) -> PublicPhoto:
    image, thumb = public_paths(photo)
    return PublicPhoto(
        kind=photo.kind,
        url=base_url + image,
        thumbnail_url=base_url + thumb,
        width=photo.width,
        height=photo.height,
        added=photo.created_at.isoformat(timespec="seconds"),
    )


def _approved():  # type: ignore[no-untyped-def]
    return (Photo.review == "approved", Photo.status == "ready", Photo.image_key.is_not(None))


def approved_photos(db_session: Session, case: Case, *, base_url: str = "") -> list[PublicPhoto]:
    """The photos of a case the public may see (before, then after; oldest first in each).

    URLs are paths unless `base_url` (e.g. settings.public_url) is given.
    """
    return approved_photos_by_case(db_session, [case.id], base_url=base_url).get(case.id, [])


def approved_photos_by_case(
    db_session: Session, case_ids: Sequence[int], *, base_url: str = ""
) -> dict[int, list[PublicPhoto]]:
    """approved_photos for many cases in one query (Open311 lists)."""
    if not case_ids:
        return {}
    rows = db_session.scalars(
        select(Photo)
        .where(Photo.case_id.in_(list(case_ids)), *_approved())
        .order_by(Photo.case_id, Photo.kind.desc(), Photo.id)  # "before" sorts after "after"
    )
    found: dict[int, list[PublicPhoto]] = {}
    for photo in rows:
        found.setdefault(int(photo.case_id or 0), []).append(_public(photo, base_url))
    return found


def public_file(db_session: Session, name: str) -> Stored | None:
    """The bytes behind a public name (<token>.jpg, <token>-thumb.jpg), if approved and ready."""
    match = PUBLIC_NAME.match(name)
    if not match:
        return None
    token, thumb, extension = match.groups()
    photo = db_session.scalars(select(Photo).where(Photo.token == token, *_approved())).first()
    if photo is None or photo.case_id is None:
        return None
    if thumb:
        if extension != "jpg":
            return None
        return open_store(db_session).get(photo.public_thumb_key or photo.thumb_key or "")
    if extension != _extension(photo):
        return None
    return open_store(db_session).get(photo.public_key or photo.image_key or "")
