"""Photos of reports: received by text (MMS) or uploaded by staff, reviewed, published.

- A texted photo is a row written in the turn's transaction (unique per MessageSid and media
  index, so a Twilio retry stores nothing twice), with its Twilio URL to fetch; the background
  job claims and records its work through cases/photo_jobs.py.
- A report being made gathers its photos (bot state); filing attaches them to the case. At
  most MAX_PER_CASE residents' photos per case (staff have their own MAX_STAFF_PER_CASE, so an
  "after" photo is never crowded out); the rest are refused, and only images are taken.
- Nothing is public until a member of staff approves it; the public then gets the photo (or
  its blurred rendition) under an unguessable token, and Twilio's URLs are never published.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cases import images
from cases.admin_models import User
from cases.artifacts import Stored, new_key, open_store
from cases.audit import record
from cases.media_models import Photo
from cases.models import Case, utcnow

MAX_PER_CASE = 5  # residents' photos on one case (and on one report being made)
MAX_STAFF_PER_CASE = 5  # staff uploads on one case, counted apart
RECENT_CASE = timedelta(minutes=30)  # a photo this soon after filing adds to that case
LEASE = timedelta(seconds=120)  # longer than a download, clean-up and store may take
GIVE_UP_AFTER = timedelta(hours=24)
COUNTED = ("queued", "ready")  # refused and failed photos leave their place free
KINDS = ("before", "after")
due = Photo.work.is_not(None)  # a photo with work left for the job (outbound/media_worker.py)


# ---------------------------------------------------------------- receiving


def receive_mms(
    *,
    db_session: Session,
    conversation_id: int,
    message_sid: str | None,
    media: Sequence[tuple[str, str]],
    now: datetime | None = None,
) -> list[Photo]:
    """One row per media item of a text (url, content type), in the turn's transaction.

    Images are queued for download; anything else is refused at once (its Twilio copy is still
    deleted). Nothing is fetched here.
    """
    now = now or utcnow()
    rows = []
    for index, (url, content_type) in enumerate(media):
        image = images.accepted_type(content_type)
        photo = Photo(
            token=secrets.token_hex(16),
            conversation_id=conversation_id,
            message_sid=message_sid,
            media_index=index,
            source="mms",
            kind="before",
            status="queued" if image else "refused",
            refusal=None if image else "type",
            review="pending",
            twilio_url=url[:1024] or None,
            content_type=(content_type or "")[:64],
            blurs=[],
            work="download" if image else "delete",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        if photo.twilio_url is None:  # nothing to fetch or delete
            photo.work = None
            if image:
                photo.status, photo.last_error = "failed", "the text named no media URL"
        db_session.add(photo)
        rows.append(photo)
    db_session.flush()
    return rows


def _refuse(db_session: Session, ids: Iterable[int], reason: str) -> None:
    """Refuse photos that are over a limit (their Twilio copies are still deleted)."""
    ids = list(ids)
    if not ids:
        return
    db_session.execute(
        update(Photo)
        .where(Photo.id.in_(ids), Photo.status.in_(COUNTED))
        .values(
            status="refused",
            refusal=reason,
            case_id=None,
            work=sql_case((Photo.twilio_url.is_not(None), "delete"), else_=None),
        )
        .execution_options(synchronize_session="fetch")
    )


def keep_within(db_session: Session, ids: Sequence[int], room: int) -> tuple[list[int], int]:
    """Keep the first `room` photos, refuse the others as over the limit: (kept, refused)."""
    kept, over = list(ids[: max(room, 0)]), list(ids[max(room, 0) :])
    _refuse(db_session, over, "limit")
    return kept, len(over)


def count_on_case(db_session: Session, case_id: int, source: str = "mms") -> int:
    """Photos on a case that take a place (queued or ready), residents' or staff's."""
    sources = ("mms",) if source == "mms" else ("staff",)
    return int(
        db_session.scalar(
            select(func.count())
            .select_from(Photo)
            .where(Photo.case_id == case_id, Photo.status.in_(COUNTED), Photo.source.in_(sources))
        )
        or 0
    )


def add_to_case(
    *, db_session: Session, case: Case, photo_ids: Sequence[int]
) -> tuple[list[int], int]:
    """Attach residents' photos to a case, up to its limit: (attached ids, refused count)."""
    kept, over = keep_within(
        db_session, photo_ids, MAX_PER_CASE - count_on_case(db_session, case.id)
    )
    if kept:
        db_session.execute(
            update(Photo)
            .where(Photo.id.in_(kept))
            .values(case_id=case.id)
            .execution_options(synchronize_session="fetch")
        )
    return kept, over


def recent_case(
    *, db_session: Session, conversation_id: int, now: datetime, window: timedelta = RECENT_CASE
) -> Case | None:
    """The case this conversation filed last, if within `window` (photos sent right after)."""
    return db_session.scalars(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.requested_datetime >= now - window)
        .order_by(Case.id.desc())
        .limit(1)
    ).first()


def of_case(db_session: Session, case_id: int) -> list[Photo]:
    """A case's photos, oldest first."""
    query = select(Photo).where(Photo.case_id == case_id).order_by(Photo.id)
    return list(db_session.scalars(query))


def of_conversation(db_session: Session, conversation_id: int) -> list[Photo]:
    """A conversation's texted photos, oldest first (whether or not a case has them)."""
    return list(
        db_session.scalars(
            select(Photo).where(Photo.conversation_id == conversation_id).order_by(Photo.id)
        )
    )


# ---------------------------------------------------------------- staff


class PhotoError(ValueError):
    """A photo change that cannot be made (shown to staff as it is)."""


def upload(
    *,
    db_session: Session,
    case: Case,
    data: bytes,
    kind: str,
    actor: User,
    now: datetime | None = None,
) -> Photo:
    """A staff member's photo for a case: checked now, cleaned by the background job.

    The raw bytes wait in the store under `upload_key` until the job has cleaned them exactly
    like a texted photo (and is then deleted). Audited.
    """
    now = now or utcnow()
    if kind not in KINDS:
        raise PhotoError("pick before or after")
    if not data:
        raise PhotoError("choose a photo to upload")
    if len(data) > images.MAX_BYTES:
        raise PhotoError("that file is over 5 MB; upload a smaller photo")
    try:
        images.check(data)
    except images.ImageRefused as exc:
        raise PhotoError(f"not uploaded: {exc}") from None
    if count_on_case(db_session, case.id, "staff") >= MAX_STAFF_PER_CASE:
        raise PhotoError(f"a case takes at most {MAX_STAFF_PER_CASE} staff photos")
    photo = Photo(
        token=secrets.token_hex(16),
        case_id=case.id,
        source="staff",
        kind=kind,
        status="queued",
        review="pending",
        content_type="upload",
        blurs=[],
        work="process",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        uploaded_by=actor.username,
    )
    db_session.add(photo)
    db_session.flush()
    photo.upload_key = new_key(f"upload/{photo.id}", "bin")
    open_store(db_session).put(photo.upload_key, data, "application/octet-stream")
    record(
        db_session=db_session,
        actor=actor,
        action="photo.upload",
        target_type="photo",
        target_id=photo.id,
        detail={"case": case.service_request_id, "kind": kind, "bytes": len(data)},
        now=now,
    )
    db_session.flush()
    return photo


def _audit(
    db_session: Session, actor: User, action: str, photo: Photo, now: datetime, **detail: object
) -> None:
    case = db_session.get(Case, photo.case_id) if photo.case_id else None
    record(
        db_session=db_session,
        actor=actor,
        action=action,
        target_type="photo",
        target_id=photo.id,
        detail={"case": case.service_request_id if case else None, **detail},
        now=now,
    )


def set_review(
    *, db_session: Session, photo: Photo, review: str, actor: User, now: datetime | None = None
) -> None:
    """Approve a photo for the public, or hide it (audited)."""
    now = now or utcnow()
    if review not in ("approved", "hidden"):
        raise PhotoError("approve or hide")
    if review == "approved" and photo.status != "ready":
        raise PhotoError("only a processed photo can be approved")
    if review == "approved" and photo.case_id is None:
        raise PhotoError("only a case's photo can be published")
    action = "photo.approve" if review == "approved" else "photo.hide"
    _audit(db_session, actor, action, photo, now, was=photo.review)
    photo.review, photo.reviewed_by, photo.reviewed_at = review, actor.username, now
    case = db_session.get(Case, photo.case_id) if photo.case_id else None
    if case is not None:  # its public media_url may change: Open311's updated_after sees it
        case.updated_datetime = now
    db_session.flush()


def blur_region(
    *,
    db_session: Session,
    photo: Photo,
    region: images.Region,
    actor: User,
    now: datetime | None = None,
) -> None:
    """Blur a region of the public rendition (the original stays for staff); audited.

    Regions add up: each blurs the rendition the public already gets.
    """
    now = now or utcnow()
    if photo.status != "ready" or not photo.image_key:
        raise PhotoError("the photo is not processed yet")
    store = open_store(db_session)
    base = store.get(photo.public_key or photo.image_key)
    if base is None:
        raise PhotoError("the photo's file is missing from the media store")
    blurred = images.blur(base.data, region)
    old = [k for k in (photo.public_key, photo.public_thumb_key) if k]
    photo.public_key = new_key(f"photo/{photo.id}", blurred.extension)
    photo.public_thumb_key = new_key(f"photo/{photo.id}", "jpg")
    store.put(photo.public_key, blurred.data, blurred.content_type)
    store.put(photo.public_thumb_key, blurred.thumbnail, "image/jpeg")
    for key in old:
        store.delete(key)
    photo.blurs = [*photo.blurs, region.as_dict()]
    _audit(db_session, actor, "photo.blur", photo, now, region=region.as_dict())
    db_session.flush()


def clear_blurs(
    *, db_session: Session, photo: Photo, actor: User, now: datetime | None = None
) -> None:
    """Undo every blur: the public gets the cleaned original again (audited)."""
    now = now or utcnow()
    store = open_store(db_session)
    for key in (photo.public_key, photo.public_thumb_key):
        if key:
            store.delete(key)
    photo.public_key = photo.public_thumb_key = None
    photo.blurs = []
    _audit(db_session, actor, "photo.unblur", photo, now)
    db_session.flush()


def staff_file(db_session: Session, photo: Photo, variant: str) -> Stored | None:
    """A photo's bytes for staff: image, thumb, public or public-thumb."""
    key = {
        "image": photo.image_key,
        "thumb": photo.thumb_key,
        "public": photo.public_key or photo.image_key,
        "public-thumb": photo.public_thumb_key or photo.thumb_key,
    }.get(variant)
    return open_store(db_session).get(key) if key else None


def delete_photos(*, db_session: Session, ids: Sequence[int]) -> int:
    """Delete photos and their bytes (retention); returns how many."""
    ids = list(ids)
    if not ids:
        return 0
    store = open_store(db_session)
    keys = db_session.execute(
        select(
            Photo.upload_key,
            Photo.image_key,
            Photo.thumb_key,
            Photo.public_key,
            Photo.public_thumb_key,
        ).where(Photo.id.in_(ids))
    ).all()
    for row in keys:
        for key in row:
            if key:
                store.delete(key)
    result = db_session.execute(
        delete(Photo).where(Photo.id.in_(ids)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def unfinished(db_session: Session) -> int:
    """Photos with work waiting (queued downloads, Twilio copies to delete)."""
    return int(db_session.scalar(select(func.count()).select_from(Photo).where(due)) or 0)
