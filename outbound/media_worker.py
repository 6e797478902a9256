"""`python -m outbound.media_worker`: fetch, clean and store photos, then delete Twilio's copy.

For each photo with work due (cases/photo_jobs.py claims it under a lease, like the outbox):
download it from Twilio with the account's credentials (outbound/twilio_media.py: only the
configured Twilio API host), clean it (cases/images.py: orientation applied, EXIF gone,
thumbnail), store both in the media store, then DELETE Twilio's copy and blank its URL. Staff
uploads are cleaned the same way. A photo that turns out not to be one we keep (too big, not an
image) is refused, and the resident gets a text saying so. Failures are retried with the
outbox's backoff for a day, each recorded on the row. Logs name photos by id, never by URL.
`drain` runs the queue dry once (tests, benchmarks).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cases import images, photo_jobs
from cases.db import make_engine, make_session_factory
from cases.media_models import Photo
from cases.models import Conversation, utcnow
from cases.outbox import enqueue_sms
from outbound.loop import run_until_stopped
from outbound.twilio_media import MediaError, TooBig, TwilioMedia
from settings import Settings
from wording import Wording, load_catalogues

log = logging.getLogger("civicline.media")
NOTICES = {"too_big": "PHOTO_TOO_BIG"}  # any other refusal: PHOTO_UNREADABLE
# Anyone can text photos and each can take seconds of CPU to decode: like the public pool
# (CIVICLINE_WEB_NICE), the worker gets only the CPU residents' texts and Rasa leave over.
DEFAULT_NICE = 10


def process_due(
    *,
    session_factory: sessionmaker[Session],
    media: TwilioMedia,
    wording: Wording | None = None,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 10,
) -> int:
    """Work on up to `limit` due photos, claiming each right before; returns how many."""
    done = 0
    for _ in range(limit):
        with session_factory() as db_session, db_session.begin():
            claims = photo_jobs.claim_due(db_session=db_session, now=clock(), limit=1)
            if not claims:
                break
            claim = claims[0]
            upload = (
                photo_jobs.upload_bytes(db_session=db_session, claim=claim)
                if claim.work == "process"
                else None
            )
        done += 1
        if claim.work == "delete":
            _delete(session_factory, media, claim, clock)
        else:
            _process(session_factory, media, wording, claim, clock, upload)
    return done


def drain(
    *,
    session_factory: sessionmaker[Session],
    media: TwilioMedia,
    wording: Wording | None = None,
    clock: Callable[[], datetime] = utcnow,
    rounds: int = 100,
) -> int:
    """Work until nothing is due (at most `rounds` batches); returns how many were worked on."""
    total = 0
    for _ in range(rounds):
        done = process_due(
            session_factory=session_factory, media=media, wording=wording, clock=clock
        )
        total += done
        if done == 0:
            break
    return total


def _process(
    sessions: sessionmaker[Session],
    media: TwilioMedia,
    wording: Wording | None,
    claim: photo_jobs.Claim,
    clock: Callable[[], datetime],
    data: bytes | None,
) -> None:
    started = time.perf_counter()
    if claim.work == "download":
        try:
            data = media.fetch(claim.url)
        except TooBig:
            if _refused(sessions, wording, claim, "too_big", clock):
                _delete(sessions, media, photo_jobs.next_claim(claim), clock)
            return
        except MediaError as exc:
            _failed(sessions, claim, exc, clock)
            return
    if data is None:
        _failed(sessions, claim, MediaError("the upload is missing", permanent=True), clock)
        return
    try:
        cleaned = images.clean(data)
    except images.ImageRefused as exc:
        if _refused(sessions, wording, claim, exc.reason, clock):
            _delete(sessions, media, photo_jobs.next_claim(claim), clock)
        return
    with sessions() as db_session, db_session.begin():
        photo = photo_jobs.record_stored(
            db_session=db_session, claim=claim, cleaned=cleaned, now=clock()
        )
        delete_next = photo is not None and photo.work == "delete"
    if photo is None:
        log.info("photo %d: lease taken over by another worker; not stored", claim.id)
        return
    log.info(
        "photo %d stored: %dx%d, %d KB, in %.0f ms",
        claim.id,
        cleaned.width,
        cleaned.height,
        len(cleaned.data) // 1024,
        (time.perf_counter() - started) * 1000,
    )
    if delete_next:
        _delete(sessions, media, photo_jobs.next_claim(claim), clock)


def _refused(
    sessions: sessionmaker[Session],
    wording: Wording | None,
    claim: photo_jobs.Claim,
    reason: str,
    clock: Callable[[], datetime],
) -> bool:
    """Refuse the photo, and text the resident why; True when Twilio's copy is to go too."""
    with sessions() as db_session, db_session.begin():
        now = clock()
        photo = photo_jobs.record_refused(
            db_session=db_session, claim=claim, reason=reason, now=now
        )
        if photo is not None and photo.source == "mms" and wording is not None:
            _notify(db_session, wording, photo, reason, now)
        delete_next = photo is not None and photo.work == "delete"
    log.info("photo %d refused: %s", claim.id, reason)
    return delete_next


def _notify(
    db_session: Session, wording: Wording, photo: Photo, reason: str, now: datetime
) -> None:
    conv = db_session.get(Conversation, photo.conversation_id) if photo.conversation_id else None
    if conv is None or conv.channel != "sms" or not conv.sender:
        return
    enqueue_sms(
        db_session=db_session,
        to=conv.sender,
        body=wording.text(NOTICES.get(reason, "PHOTO_UNREADABLE"), "sms", conv.language),
        reason="photo_refused",
        conversation_id=conv.id,
        case_id=photo.case_id,
        now=now,
    )


def _delete(
    sessions: sessionmaker[Session],
    media: TwilioMedia,
    claim: photo_jobs.Claim,
    clock: Callable[[], datetime],
) -> None:
    """Delete Twilio's copy, then blank its URL on the row."""
    try:
        media.delete(claim.url)
    except MediaError as exc:
        _failed(sessions, claim, exc, clock)
        return
    with sessions() as db_session, db_session.begin():
        deleted = photo_jobs.record_deleted(db_session=db_session, claim=claim, now=clock())
    if deleted:
        log.info("photo %d: Twilio's copy deleted", claim.id)


def _failed(
    sessions: sessionmaker[Session],
    claim: photo_jobs.Claim,
    exc: MediaError,
    clock: Callable[[], datetime],
) -> None:
    with sessions() as db_session, db_session.begin():
        outcome = photo_jobs.record_failure(
            db_session=db_session,
            claim=claim,
            error=str(exc),
            now=clock(),
            permanent=exc.permanent,
        )
    if outcome == "gave_up":
        log.error(
            "photo %d: %s gave up after %d attempt(s): %s", claim.id, claim.work, claim.attempt, exc
        )
    elif outcome == "retry":
        log.warning("photo %d: %s attempt %d failed: %s", claim.id, claim.work, claim.attempt, exc)


def make_media(settings: Settings) -> TwilioMedia:
    """Twilio's media endpoints with the account's credentials (TWILIO_*)."""
    return TwilioMedia(
        settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url
    )


def make_wording(settings: Settings) -> Wording:
    """The message catalogues, for the texts that tell a resident a photo was refused."""
    return Wording(
        settings.city_name,
        settings.city_phone,
        load_catalogues(settings.data_dir / "messages"),
    )


def main(poll_seconds: float = 1.0) -> int:
    """Run until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s media %(message)s")
    nice = int(os.environ.get("CIVICLINE_MEDIA_NICE", str(DEFAULT_NICE)))
    if nice:
        os.nice(nice)
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    media, wording = make_media(settings), make_wording(settings)
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        log.error("TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set: texted photos wait")
    log.info("media worker started")

    def one_pass() -> float:
        busy = process_due(session_factory=sessions, media=media, wording=wording)
        return 0 if busy else poll_seconds

    return run_until_stopped(
        one_pass,
        name="media",
        log=log,
        pause_after_error=poll_seconds * 5,
    )


if __name__ == "__main__":
    sys.exit(main())
