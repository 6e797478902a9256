"""Broadcasting one notice to 5,000 subscribers: time to queue, and the send schedule.

Seeds a scratch SQLite database (migrated) with 5,000 subscribers on the notice's street (plus
50 opted out, who must be skipped), publishes a citywide-topic notice and queues its broadcast
through the same function the console uses, at CIVICLINE_BROADCAST_PER_MINUTE (default 60)
inside the city's text hours. Reports the queueing time and the first/last send time.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from cases import notices
from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import OptOut, OutboundMessage
from cases.notice_models import AlertSubscription, Notice
from runtime import fix_check_rules
from settings import ROOT, Settings

SUBSCRIBERS = 5000
OPTED_OUT = 50


def main() -> int:
    settings = Settings.from_env()
    rules = fix_check_rules(settings)
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 10:00 in New York
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = make_engine(url)
        Session = make_session_factory(db)
        with Session() as s, s.begin():
            phones = [f"+1555{n:07d}" for n in range(SUBSCRIBERS + OPTED_OUT)]
            s.execute(
                insert(AlertSubscription),
                [
                    {
                        "phone": p,
                        "service_codes": [],
                        "street": "Elm Street",
                        "language": "es" if i % 4 == 0 else "en",
                        "consented_at": now,
                        "source_text": "ALERTS Elm St",
                    }
                    for i, p in enumerate(phones)
                ],
            )
            s.add_all(
                OptOut(phone=p, keyword="stop", opted_out_at=now) for p in phones[-OPTED_OUT:]
            )
            notice = Notice(
                texts={"en": "Water off on Elm Street 1-5 pm.", "es": "Sin agua en Elm Street."},
                streets=["Elm Street"],
                service_codes=["WS-LEAK"],
                kb_intents=[],
                starts_at=now,
                ends_at=now + timedelta(hours=6),
            )
            s.add(notice)
        with Session() as s, s.begin():
            notice = s.scalars(select(Notice)).one()
            started = time.perf_counter()
            done = notices.broadcast(
                db_session=s,
                notice=notice,
                body=lambda lang: f"alert ({lang}): {notices.text_of(notice, lang)}",
                rules=rules,
                per_minute=settings.broadcast_per_minute,
                now=now,
            )
        seconds = time.perf_counter() - started  # including the commit
        with Session() as s:
            queued = s.scalar(select(func.count()).select_from(OutboundMessage))
            first = s.scalar(select(func.min(OutboundMessage.next_attempt_at)))
            last = s.scalar(select(func.max(OutboundMessage.next_attempt_at)))
        db.dispose()
    assert first is not None and last is not None
    result = {
        "subscribers": SUBSCRIBERS + OPTED_OUT,
        "queued": queued,
        "skipped_opted_out": done.skipped,
        "per_minute": settings.broadcast_per_minute,
        "text_hours": f"{rules.hours[0] // 60:02d}:{rules.hours[0] % 60:02d}-"
        f"{rules.hours[1] // 60:02d}:{rules.hours[1] % 60:02d} {rules.timezone}",
        "queue_seconds": round(seconds, 3),
        "first_send_utc": first.isoformat(),
        "last_send_utc": last.isoformat(),
        "schedule_span_minutes": round((last - first).total_seconds() / 60, 1),
    }
    out = ROOT / "reports" / "bench-broadcast.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("\nBroadcast of one notice to 5,000 subscribers (+50 opted out)")
    for key, value in result.items():
        print(f"  {key:24} {value}")
    return 0 if queued == SUBSCRIBERS and done.skipped == OPTED_OUT else 1


if __name__ == "__main__":
    raise SystemExit(main())
