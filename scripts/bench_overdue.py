"""The dashboard's on-time chart with 100,000 stored cases vs. 1,000 (same run).

Seeds two scratch SQLite stores, cases filed over the last two years (a due date a few business
days later, four in five closed, most before their due date), then times `cases.stats.on_time`
(the query behind the chart: one range read of the `cases.due_datetime` index, 8 weeks) and
`overdue_by_agency`, the two stores' calls interleaved. Median of 21 calls each. The window
holds about 8/104 of the rows, so the on-time time grows with the window's cases (about
100x rows in it), not with the whole table: the point is that it is an index range, not a scan.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from cases.db import make_engine, make_session_factory
from cases.deadlines import default_calendar, overdue_by_agency
from cases.migrate import upgrade
from cases.models import Case, utcnow
from cases.stats import on_time

CALLS = 21
SERVICES = [("Pothole", "Public Works"), ("Streetlight", "Public Works"), ("Tree", "Parks")]


def seed(url: str, count: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    rnd = random.Random(count)
    now, calendar = utcnow(), default_calendar()
    rows = []
    for i in range(count):
        filed = now - timedelta(minutes=rnd.randrange(2 * 365 * 24 * 60))
        due = calendar.due(filed, rnd.choice((1, 3, 7)))
        closed = filed + timedelta(hours=rnd.expovariate(1 / 60)) if rnd.random() < 0.8 else None
        name, agency = rnd.choice(SERVICES)
        rows.append(
            {
                "service_request_id": f"311-{i + 1:06d}",
                "service_code": name.upper(),
                "service_name": name,
                "agency_responsible": agency,
                "status": "closed" if closed and closed < now else "received",
                "requested_datetime": filed,
                "updated_datetime": filed,
                "due_datetime": due,
                "expected_datetime": due,
                "closed_datetime": closed if closed and closed < now else None,
                "source": "sms",
                "attributes": {},
                "resolution_detail": {},
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Case), rows[start : start + 5000])
    engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for count in (1_000, 100_000):
            url = f"sqlite:///{Path(tmp) / f'bench_{count}.db'}"
            started = time.perf_counter()
            seed(url, count)
            print(f"seeded {count:,} cases in {time.perf_counter() - started:.1f} s")
            stores[count] = make_session_factory(make_engine(url))
        timings: dict[tuple[int, str], list[float]] = {}
        counted = {}
        for _ in range(CALLS):
            for count, sessions in stores.items():
                with sessions() as s:
                    t = time.perf_counter()
                    counted[count] = on_time(db_session=s, now=utcnow()).counted
                    timings.setdefault((count, "on_time"), []).append(time.perf_counter() - t)
                    t = time.perf_counter()
                    overdue_by_agency(db_session=s, now=utcnow())
                    timings.setdefault((count, "overdue"), []).append(time.perf_counter() - t)
        for what in ("on_time", "overdue"):
            small = statistics.median(timings[(1_000, what)]) * 1000
            large = statistics.median(timings[(100_000, what)]) * 1000
            print(
                f"{what:8} 1,000 cases: {small:7.2f} ms   100,000 cases: {large:8.2f} ms"
                f"   ratio {large / small:5.1f}x"
            )
        print(f"cases in the on-time window: {counted[1_000]:,} vs {counted[100_000]:,}")


if __name__ == "__main__":
    main()
