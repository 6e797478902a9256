"""Open data export of 100,000 cases vs. 10,000: time and peak memory, streamed.

Each store is seeded in a process of its own; each export then runs in a fresh process, so its
peak resident set (ru_maxrss) is the export's alone: once timed (rss), once under tracemalloc
(peak Python allocations). Both go through the app's streamed endpoint (Flask test client,
reading the chunks as a client would and dropping them) and through the atomic file export.
Streamed, the time should grow about 10x and the peak memory hardly at all.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZES = (10_000, 100_000)
CODES = [
    ("PW-POTHOLE", "Pothole", "Department of Public Works", {"size": "large"}),
    ("PD-NOISE", "Noise complaint", "Police Department", {"noise_type": "music_party"}),
    ("HI-NOHEAT", "No heat", "Department of Housing and Inspections", {}),
]


def seed(url: str, n: int) -> None:
    from sqlalchemy import insert

    from cases.db import make_engine
    from cases.migrate import upgrade
    from cases.models import Case

    upgrade(url)
    engine = make_engine(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for first in range(0, n, 10_000):
            rows = []
            for i in range(first, min(n, first + 10_000)):
                code, name, agency, attributes = CODES[i % 3]
                at = start + timedelta(minutes=i)
                rows.append(
                    {
                        "service_request_id": f"311-{i + 1:07d}",
                        "service_code": code,
                        "service_name": name,
                        "agency_responsible": agency,
                        "source": ("sms", "voice", "open311")[i % 3],
                        "description": "a resident's words, never published",
                        "contact_phone": "+15550100000",
                        "address": f"{100 + i % 900} Elm Street",
                        "lat": 42.1 + (i % 1000) / 1e5,
                        "long": -72.6 - (i % 1000) / 1e5,
                        "attributes": attributes,
                        "status": "closed" if i % 4 == 0 else "received",
                        "resolution": "fixed" if i % 4 == 0 else None,
                        "closed_datetime": at + timedelta(days=2) if i % 4 == 0 else None,
                        "requested_datetime": at,
                        "updated_datetime": at + timedelta(days=1),
                    }
                )
            conn.execute(insert(Case), rows)
    engine.dispose()


def export(url: str, mode: str, how: str) -> dict[str, float]:
    from app import create_app
    from open311 import open_data
    from settings import Settings
    from tests.fakes import FakeNLU

    settings = Settings.from_env({}, database_url=url, rate_limits=False)
    app = create_app(settings, nlu=FakeNLU())
    runtime = app.extensions["civicline"]
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "trace":
        tracemalloc.start()
    began = time.perf_counter()
    size = 0
    if how == "http":
        response = app.test_client().get("/open-data/service_requests.csv")
        assert response.is_streamed
        for chunk in response.response:
            size += len(chunk)
        response.close()
    else:
        with tempfile.TemporaryDirectory() as folder, runtime.Session() as s:
            path = Path(folder) / "service_requests.csv"
            open_data.export(db_session=s, catalog=runtime.catalog, city="Riverton", path=path)
            size = path.stat().st_size
    seconds = time.perf_counter() - began
    result = {"seconds": seconds, "bytes": size}
    if mode == "trace":
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["rss_peak_mb"] = peak / 1024
        result["rss_growth_mb"] = (peak - base_rss) / 1024
    return result


def child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "scripts.bench_open_data", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main() -> None:
    results: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            url = f"sqlite:///{Path(folder) / f'{n}.db'}"
            child("seed", url, str(n))
            results[n] = {}
            for how in ("http", "file"):
                timed = child("export", url, "time", how)
                traced = child("export", url, "trace", how)
                results[n][how] = {**timed, "traced_peak_mb": traced["traced_peak_mb"]}
    small, large = (results[n] for n in SIZES)
    print(f"open data export (CSV), {SIZES[0]:,} vs {SIZES[1]:,} cases")
    for how in ("http", "file"):
        a, b = small[how], large[how]
        print(
            f"  {how:4}: {a['seconds']:.2f}s vs {b['seconds']:.2f}s "
            f"(x{b['seconds'] / a['seconds']:.1f}, {b['bytes'] / 2**20:.1f} MB out); "
            f"rss growth {a['rss_growth_mb']:.1f} vs {b['rss_growth_mb']:.1f} MB "
            f"(peak {a['rss_peak_mb']:.0f} vs {b['rss_peak_mb']:.0f} MB); "
            f"traced peak {a['traced_peak_mb']:.1f} vs {b['traced_peak_mb']:.1f} MB "
            f"(x{b['traced_peak_mb'] / a['traced_peak_mb']:.2f})"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "seed":
        seed(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "export":
        print(json.dumps(export(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        main()
