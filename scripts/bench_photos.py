"""`make bench` (photos): what one texted photo costs the media worker, end to end and by step.

A 12-megapixel phone JPEG (4032x3024, textured like a real photo, with GPS and camera EXIF) is
queued ROUNDS times as a texted photo on a scratch SQLite store. Each is worked exactly as `make
run`'s worker does: claimed under a lease, downloaded from the Twilio stand-in (basic auth over
loopback HTTP), cleaned (orientation, EXIF gone, sRGB, re-encoded), thumbnailed, stored in the
database media store, and deleted at Twilio. Then the steps alone, on the same bytes: download,
clean, store. Prints and saves medians and the slowest.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from cases import images, photos
from cases.artifacts import open_store
from cases.db import make_engine, make_session_factory
from cases.media_models import Photo
from cases.migrate import upgrade
from cases.models import Conversation, utcnow
from outbound.media_worker import process_due
from outbound.twilio_media import TwilioMedia
from settings import ROOT
from tests.photo_helpers import phone_jpeg
from tests.twilio_standin import TwilioStandIn

ROUNDS = 10
SIZE = (4032, 3024)  # 12 megapixels, a phone's 4:3


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _summary(samples: list[float]) -> dict[str, float]:
    return {"median": _ms(statistics.median(samples)), "max": _ms(max(samples))}


def main() -> None:
    """Run the benchmark and print/save the numbers."""
    data = phone_jpeg(SIZE, texture=True, quality=92)
    standin = TwilioStandIn()
    tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-photos-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    media = TwilioMedia(standin.account_sid, standin.auth_token, standin.url)
    try:
        with sessions() as s, s.begin():
            conv = Conversation(channel="sms", sender="+15550100999", state={})
            s.add(conv)
            s.flush()
            for n in range(ROUNDS):
                photos.receive_mms(
                    db_session=s,
                    conversation_id=conv.id,
                    message_sid=f"MM{n:032x}",
                    media=[(standin.add_media(data), "image/jpeg")],
                )
        whole = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            assert process_due(session_factory=sessions, media=media, limit=1) == 1
            whole.append(time.perf_counter() - started)
        with sessions() as s:
            done = list(s.scalars(select(Photo)))
        assert all(p.status == "ready" and p.twilio_url is None for p in done), "not all stored"
        fetch, clean, store = [], [], []
        for _ in range(ROUNDS):
            again = standin.add_media(data)
            started = time.perf_counter()
            fetched = media.fetch(again)
            fetch.append(time.perf_counter() - started)
            started = time.perf_counter()
            cleaned = images.clean(fetched)
            clean.append(time.perf_counter() - started)
            started = time.perf_counter()
            with sessions() as s, s.begin():
                store_ = open_store(s)
                store_.put(f"bench/{utcnow().timestamp()}.jpg", cleaned.data, cleaned.content_type)
                store_.put(f"bench/{utcnow().timestamp()}-t.jpg", cleaned.thumbnail, "image/jpeg")
            store.append(time.perf_counter() - started)
    finally:
        standin.close()
    result = {
        "photo": {
            "pixels": f"{SIZE[0]}x{SIZE[1]}",
            "jpeg_kb": len(data) // 1024,
            "stored_kb": len(cleaned.data) // 1024,
            "thumbnail_kb": len(cleaned.thumbnail) // 1024,
        },
        "rounds": ROUNDS,
        "per_photo_ms": _summary(whole),  # claim, download, clean, thumbnail, store, delete
        "download_ms": _summary(fetch),
        "clean_and_thumbnail_ms": _summary(clean),
        "store_ms": _summary(store),
    }
    out = ROOT / "reports" / "bench_photos.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
