"""The photo job's side of the store: claim due work under a lease, record each outcome.

Claims work like the outbox's: a claim writes a fresh token and a lease (`next_attempt_at`),
and every outcome is one UPDATE conditional on that token, so a worker whose lease was taken
over records nothing (outbound/media_worker.py runs it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import images
from cases.artifacts import ArtifactStore, new_key, open_store
from cases.media_models import Photo
from cases.outbox import retry_delay
from cases.photos import GIVE_UP_AFTER, LEASE, due

# ---------------------------------------------------------------- the background job


@dataclass(frozen=True)
class Claim:
    """One photo's pending work, leased to one worker; `token` proves the lease is still ours."""

    id: int
    token: str
    work: str  # download | process | delete
    url: str | None
    upload_key: str | None
    attempt: int
    conversation_id: int | None


def claim_due(*, db_session: Session, now: datetime, limit: int = 1) -> list[Claim]:
    """Lease photos with work due (or whose last lease ran out), each with its own token."""
    query = (
        select(Photo.id)
        .where(due, Photo.next_attempt_at <= now)
        .order_by(Photo.next_attempt_at, Photo.id)
        .limit(limit)
    )
    if db_session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claims = []
    for photo_id in list(db_session.scalars(query)):
        token = secrets.token_hex(16)
        won = db_session.execute(
            update(Photo)
            .where(Photo.id == photo_id, due, Photo.next_attempt_at <= now)
            .values(claim_token=token, attempts=Photo.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:  # another worker got there first
            continue
        row = db_session.execute(
            select(
                Photo.work,
                Photo.twilio_url,
                Photo.upload_key,
                Photo.attempts,
                Photo.conversation_id,
            ).where(Photo.id == photo_id)
        ).one()
        claims.append(Claim(photo_id, token, str(row.work), *row[1:]))
    return claims


def _ours(db_session: Session, claim: Claim) -> Photo | None:
    """The photo, fresh, if this claim still holds its lease."""
    photo = db_session.get(Photo, claim.id, populate_existing=True)
    if photo is None or photo.claim_token != claim.token or photo.work != claim.work:
        return None
    return photo


def upload_bytes(*, db_session: Session, claim: Claim) -> bytes | None:
    """A staff upload's raw bytes (work `process`)."""
    found = open_store(db_session).get(claim.upload_key or "")
    return found.data if found else None


def record_stored(
    *, db_session: Session, claim: Claim, cleaned: images.Cleaned, now: datetime
) -> Photo | None:
    """Store the cleaned photo and its thumbnail under this claim's lease (None: lease lost).

    A texted photo then has its Twilio copy to delete, still under this lease (renewed).
    """
    photo = _ours(db_session, claim)
    if photo is None:
        return None
    store = open_store(db_session)
    photo.image_key = new_key(f"photo/{photo.id}", cleaned.extension)
    photo.thumb_key = new_key(f"photo/{photo.id}", "jpg")
    store.put(photo.image_key, cleaned.data, cleaned.content_type)
    store.put(photo.thumb_key, cleaned.thumbnail, "image/jpeg")
    _drop_upload(store, photo)
    photo.image_type, photo.size_bytes = cleaned.content_type, len(cleaned.data)
    photo.width, photo.height = cleaned.width, cleaned.height
    photo.status, photo.processed_at, photo.last_error = "ready", now, None
    _next(photo, now)
    db_session.flush()
    return photo


def record_refused(
    *, db_session: Session, claim: Claim, reason: str, now: datetime
) -> Photo | None:
    """The bytes are no photo we keep (too big, not an image): refused (None: lease lost)."""
    photo = _ours(db_session, claim)
    if photo is None:
        return None
    _drop_upload(open_store(db_session), photo)
    photo.status, photo.refusal, photo.processed_at = "refused", reason, now
    photo.case_id = None if photo.source == "mms" else photo.case_id
    _next(photo, now)
    db_session.flush()
    return photo


def _drop_upload(store: ArtifactStore, photo: Photo) -> None:
    if photo.upload_key:
        store.delete(photo.upload_key)
        photo.upload_key = None


def _next(photo: Photo, now: datetime) -> None:
    """After processing: Twilio's copy to delete (same lease, renewed), or nothing left to do."""
    if photo.twilio_url:
        photo.work, photo.next_attempt_at = "delete", now + LEASE
    else:
        photo.work, photo.claim_token = None, None


def next_claim(claim: Claim) -> Claim:
    """The same lease, now for deleting Twilio's copy."""
    return Claim(
        claim.id, claim.token, "delete", claim.url, None, claim.attempt, claim.conversation_id
    )


def record_deleted(*, db_session: Session, claim: Claim, now: datetime) -> bool:
    """Twilio's copy is gone: blank its URL; nothing left to do."""
    photo = _ours(db_session, claim)
    if photo is None:
        return False
    photo.twilio_url, photo.work, photo.claim_token = None, None, None
    if photo.status != "failed":
        photo.last_error = None
    db_session.flush()
    return True


def record_failure(
    *, db_session: Session, claim: Claim, error: str, now: datetime, permanent: bool = False
) -> str | None:
    """A failed attempt: retried with backoff, or given up (recorded). None: lease lost.

    `error` must not quote the media URL. A download given up on leaves the photo failed and
    its URL blanked (`permanent`: the URL was refused, or Twilio no longer has the media).
    """
    photo = _ours(db_session, claim)
    if photo is None:
        return None
    photo.last_error, photo.claim_token = error[:1000], None
    give_up = permanent or now >= photo.created_at + GIVE_UP_AFTER
    if not give_up:
        photo.next_attempt_at = min(
            now + retry_delay(photo.attempts), photo.created_at + GIVE_UP_AFTER
        )
        db_session.flush()
        return "retry"
    if photo.work == "delete":  # the photo is kept; only Twilio's copy could not be deleted
        photo.work = None
    else:
        photo.status, photo.work, photo.twilio_url = "failed", None, None
        _drop_upload(open_store(db_session), photo)
    db_session.flush()
    return "gave_up"
