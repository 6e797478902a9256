"""Case page load with 10,000 stored cases vs. the same pages with 100 (same run).

Seeds two scratch databases (100 and 10,000 cases, each with its filing and two status changes;
one case in ten is the original of three linked reports; staff have opened half of them, some
several times), serves both apps on loopback and times GET requests over real HTTP, the two
stores' requests interleaved so other work on the machine weighs on both alike: the public page
(/c/<number>-<token>) of an original with linked reports, of a linked report, of a plain case,
the not-found page, and the console case page (which records a staff view). Median of 41 loads
each. The pages' queries are indexed, so the ratio should stay near 1.
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
from typing import Any

import requests
from sqlalchemy import insert
from werkzeug.serving import make_server

from app import create_app
from cases.admin_models import User
from cases.lifecycle import new_token
from cases.migrate import upgrade
from cases.models import Case, CaseEvent, CaseView, utcnow
from cases.users import create_user
from nlu.server import free_port
from settings import ROOT, Settings

LOADS = 41
STAFF = 5


def seed(app: Any, count: int) -> dict[str, str]:
    """Bulk-insert `count` cases with history, linked reports and staff views; the paths to time."""
    rng = random.Random(311)
    runtime = app.extensions["civicline"]
    now = utcnow()
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    views: list[dict[str, Any]] = []
    with runtime.Session() as s, s.begin():
        create_user(db_session=s, username="bench", password="bench password", role="supervisor")
        for i in range(STAFF):
            create_user(db_session=s, username=f"staff{i}", password="x" * 12, role="supervisor")
        staff_ids = [u.id for u in s.query(User).order_by(User.id)]
        for i in range(1, count + 1):
            at = now - timedelta(minutes=i * 7)
            original = i - (i % 10) + 1 if i % 10 in (2, 3, 4) else None  # 1 of 10 has 3 linked
            noise = i % 3 == 0
            cases.append(
                {
                    "id": i,
                    "service_request_id": f"311-{i:06d}",
                    "service_code": "PD-NOISE" if noise else "PW-POTHOLE",
                    "service_name": "Noise Complaint" if noise else "Pothole",
                    "status": "in_progress",
                    "status_notes": "The crew is on site.",
                    "agency_responsible": "Police Department" if noise else "Public Works",
                    "description": "x",
                    "address": f"{100 + i % 900} Elm Street",
                    "attributes": {},
                    "requested_datetime": at,
                    "updated_datetime": at,
                    "expected_datetime": at + timedelta(days=3),
                    "source": "sms",
                    "contact_phone": f"+1555{i:07d}",
                    "language": "es" if i % 4 == 0 else "en",
                    "duplicate_of": original if original and original <= count else None,
                    "assigned_to": "DPW Crew 4",
                    "resolution_detail": {},
                    "public_token": new_token(),
                }
            )
            step = {"case_id": i, "actor_name": "sam", "kind": "status"}
            events += [
                {"case_id": i, "at": at, "actor_name": "sms", "kind": "filed"},
                {
                    **step,
                    "at": at + timedelta(hours=1),
                    "from_status": "received",
                    "to_status": "assigned",
                    "assigned_to": "DPW Crew 4",
                },
                {
                    **step,
                    "at": at + timedelta(hours=2),
                    "from_status": "assigned",
                    "to_status": "in_progress",
                    "public_note": "The crew is on site.",
                },
            ]
            if i % 2:
                for _ in range(rng.randint(1, 4)):
                    seen = at + timedelta(hours=rng.randint(1, 200))
                    views.append({"case_id": i, "user_id": rng.choice(staff_ids), "at": seen})
        s.execute(insert(Case), cases)
        s.execute(insert(CaseEvent), events)
        s.execute(insert(CaseView), views)
    by_id = {c["id"]: c for c in cases}

    def page(i: int) -> str:
        return f"/c/{by_id[i]['service_request_id']}-{by_id[i]['public_token']}"

    # the same kinds of case near the middle of either store
    middle = count // 2 - (count // 2) % 10
    return {
        "public: original with 3 linked": page(middle + 1),
        "public: linked report": page(middle + 3),
        "public: plain case": page(middle + 5),
        "public: not found": f"/c/{by_id[middle + 5]['service_request_id']}-zzzzzz",
        "console: case page": f"/console/cases/{by_id[middle + 1]['service_request_id']}",
    }


class Served:
    """One seeded store's app on a loopback port, with a signed-in console session."""

    def __init__(self, count: int):
        tmp = Path(tempfile.mkdtemp(prefix="civicline-case-page-bench-"))
        url = f"sqlite:///{tmp / 'bench.db'}"
        upgrade(url)
        settings = Settings.from_env({}, database_url=url, secret_key="bench", rate_limits=False)
        self.app = create_app(settings)
        self.paths = seed(self.app, count)
        port = free_port()
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        login = self.http.get(self.base + "/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        self.http.post(
            self.base + "/console/login",
            data={"username": "bench", "password": "bench password", "csrf_token": token},
        )

    def load(self, name: str) -> float:
        """One GET of a page (ms), checked."""
        expected = 404 if "not found" in name else 200
        started = time.perf_counter()
        resp = self.http.get(self.base + self.paths[name], timeout=30)
        took = (time.perf_counter() - started) * 1000
        assert resp.status_code == expected, (name, resp.status_code)
        return took

    def close(self) -> None:
        self.server.shutdown()
        self.app.extensions["civicline"].db.dispose()


def measure(counts: tuple[int, ...]) -> dict[int, dict[str, float]]:
    """Median load time (ms) of each page per store size, the stores' loads interleaved so that
    other work on the machine weighs on both alike."""
    stores = {count: Served(count) for count in counts}
    samples: dict[int, dict[str, list[float]]] = {count: {} for count in counts}
    try:
        names = list(stores[counts[0]].paths)
        for store in stores.values():  # warm up (the first console view writes a row)
            for name in names:
                store.load(name)
        for _ in range(LOADS):
            for name in names:
                for count, store in stores.items():
                    samples[count].setdefault(name, []).append(store.load(name))
    finally:
        for store in stores.values():
            store.close()
    return {
        count: {name: round(statistics.median(v), 1) for name, v in by_name.items()}
        for count, by_name in samples.items()
    }


def main() -> None:
    """Print and save the numbers."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("app").setLevel(logging.ERROR)  # no Twilio token: irrelevant here
    found = measure((100, 10_000))
    small, large = found[100], found[10_000]
    report = {
        "cases_100_ms": small,
        "cases_10000_ms": large,
        "ratio_10000_to_100": {k: round(large[k] / small[k], 2) for k in small},
    }
    out = ROOT / "reports" / "bench-case-page.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
