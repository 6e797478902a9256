"""Console page load with 10,000 stored conversations vs. the same pages with 100 (same run).

Seeds two scratch databases (100 and 10,000 conversations of 3 turns each, a case for one in
five, a handoff for one in twenty), serves each app on loopback, signs in and times GET requests
of the conversation list (plain, searched, filtered) over real HTTP: median of 15 loads each.
"""

from __future__ import annotations

import json
import logging
import random
import re
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

from app import create_app
from cases.migrate import upgrade
from cases.models import Case, Conversation, Turn, utcnow
from cases.users import create_user
from nlu.server import free_port
from settings import ROOT, Settings

TEXTS = [
    ("pothole", "theres a pothole on elm st"),
    ("noise_complaint", "loud music next door"),
    ("ask_trash_schedule", "when is trash day"),
    ("nlu_fallback", "blorp zzz"),
    ("streetlight_out", "streetlight out on oak ave"),
    ("greet", "hello"),
]
PAGES = {
    "list": "/console/conversations",
    "search": "/console/conversations?q=music",
    "search, no match": "/console/conversations?q=zebra+crossing",
    "intent": "/console/conversations?intent=pothole",
    "low confidence": "/console/conversations?low_confidence=1",
    "page 50": "/console/conversations?page=50",
}


def seed(app, count: int) -> None:
    """Bulk-insert `count` conversations with turns, cases and handoffs."""
    rng = random.Random(311)
    runtime = app.extensions["civicline"]
    now = utcnow()
    with runtime.Session() as s, s.begin():
        create_user(db_session=s, username="bench", password="bench password", role="supervisor")
        for i in range(count):
            at = now - timedelta(minutes=i * 3)
            conv = Conversation(
                channel=rng.choice(["sms", "voice"]),
                sender=f"+1555{i:07d}",
                status="closed",
                state={},
                started_at=at,
                last_activity_at=at,
                handoff_status="waiting" if i % 20 == 0 else "none",
                handoff_requested_at=at if i % 20 == 0 else None,
            )
            s.add(conv)
            s.flush()
            for j in range(3):
                intent, text = rng.choice(TEXTS)
                s.add(
                    Turn(
                        conversation_id=conv.id,
                        channel=conv.channel,
                        text=text,
                        intent=intent,
                        confidence=rng.uniform(0.3, 1.0),
                        entities=[],
                        reply="ok",
                        reply_kind="answer",
                        received_at=at + timedelta(seconds=j),
                        replied_at=at + timedelta(seconds=j),
                    )
                )
            if i % 5 == 0:
                case = Case(
                    service_code="PW-POTHOLE",
                    service_name="Pothole",
                    status="received",
                    agency_responsible="Public Works",
                    description="x",
                    source="sms",
                    conversation_id=conv.id,
                    requested_datetime=at,
                    updated_datetime=at,
                )
                s.add(case)
                s.flush()
                case.service_request_id = f"311-{case.id:06d}"


def measure(count: int) -> dict[str, float]:
    """Median load time (ms) of each page with `count` conversations stored."""
    tmp = Path(tempfile.mkdtemp(prefix="civicline-console-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    app = create_app(Settings.from_env({}, database_url=url, secret_key="bench"))
    seed(app, count)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', http.get(base + "/console/login").text
    ).group(1)
    http.post(
        base + "/console/login",
        data={"username": "bench", "password": "bench password", "csrf_token": token},
    )
    result = {}
    try:
        for name, path in PAGES.items():
            samples = []
            for _ in range(15):
                started = time.perf_counter()
                resp = http.get(base + path, timeout=30)
                samples.append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200 and "Conversations" in resp.text
            result[name] = round(statistics.median(samples), 1)
    finally:
        server.shutdown()
        app.extensions["civicline"].db.dispose()
    return result


def main() -> None:
    """Print and save the numbers."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    small, large = measure(100), measure(10_000)
    report = {
        "conversations_100_ms": small,
        "conversations_10000_ms": large,
        "ratio_10000_to_100": {k: round(large[k] / small[k], 2) for k in small},
    }
    out = ROOT / "reports" / "bench-console.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
