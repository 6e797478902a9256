"""`make bench` (mixed load): SMS turns at 10/s alone, then beside public readers and a login spray.

Starts Rasa and gunicorn (as `make run` configures it) on a scratch database with 1,000 cases.
Phase 1 sends signed SMS turns at a steady 10 per second for LOAD_SECONDS and records each
turn's latency. Phase 2 does the same while 16 anonymous clients read the Open311 request list
as fast as they can and 4 clients spray wrong passwords at the console's sign-in form. Reports
p50/p99 of the turns in each phase, the ratio of p99s (goal: at most 2), and the errors.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import Case, utcnow
from nlu.rasa_cli import ensure_model
from nlu.server import RasaServer, free_port
from scripts.bench import SCRIPT, percentile
from scripts.chat import send
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT

RATE = 10.0  # SMS turns per second
LOAD_SECONDS = float(os.environ.get("CIVICLINE_BENCH_SECONDS", "30"))
READERS, SPRAYERS, CASES = 16, 4, 1000
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed_cases(database_url: str) -> None:
    """1,000 filed cases, as the Open311 list would carry them."""
    sessions = make_session_factory(make_engine(database_url))
    now = utcnow()
    with sessions() as s, s.begin():
        for i in range(CASES):
            s.add(
                Case(
                    service_request_id=f"311-{900000 + i}",
                    service_code="PW-POTHOLE",
                    service_name="Pothole",
                    agency_responsible="Public Works",
                    description="deep pothole in the bike lane",
                    address=f"{100 + i} Elm Street",
                    lat=42.1,
                    long=-72.5,
                    attributes={"size": "large"},
                    source="open311",
                    requested_datetime=now,
                    updated_datetime=now,
                )
            )


def steady_turns(base: str, token: str, seconds: float, tag: str) -> tuple[list[float], int]:
    """SMS turns at RATE per second (open loop: a slow turn does not delay the next one)."""
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    lines = itertools.cycle(SCRIPT)

    def one(i: int, body: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            send(base, base, token, f"+1555{tag}{i // len(SCRIPT):05d}", body)
        except Exception:
            with lock:
                errors += 1
            return
        with lock:
            samples.append((time.perf_counter() - started) * 1000)

    count = int(seconds * RATE)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(count):
            delay = start + i / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i, next(lines))
    return samples, errors


def hammer(base: str, stop_at: threading.Event, counts: dict[str, int]) -> list[threading.Thread]:
    """16 anonymous Open311 readers and 4 login sprayers, each as fast as it can go."""

    def reader() -> None:
        with requests.Session() as http:
            while not stop_at.is_set():
                try:
                    code = http.get(f"{base}/open311/v2/requests.json", timeout=30).status_code
                except requests.RequestException:
                    code = 0
                counts[f"reader {code}"] = counts.get(f"reader {code}", 0) + 1

    def sprayer(n: int) -> None:
        with requests.Session() as http:
            i = 0
            while not stop_at.is_set():
                i += 1
                try:
                    page = http.get(f"{base}/console/login", timeout=30).text
                    found = CSRF_RE.search(page)
                    code = http.post(
                        f"{base}/console/login",
                        data={
                            "username": "admin",
                            "password": f"guess-{n}-{i}",
                            "csrf_token": found.group(1) if found else "",
                        },
                        timeout=30,
                        allow_redirects=False,
                    ).status_code
                except requests.RequestException:
                    code = 0
                counts[f"login {code}"] = counts.get(f"login {code}", 0) + 1

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    threads += [threading.Thread(target=sprayer, args=(n,)) for n in range(SPRAYERS)]
    for t in threads:
        t.start()
    return threads


def summary(samples: list[float], errors: int) -> dict[str, float]:
    return {
        "turns": len(samples),
        "errors": errors,
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(percentile(samples, 0.99), 1),
    }


def run_layout(env: dict[str, str], token: str, split: bool) -> dict[str, object]:
    """Both phases against one layout: one pool for everything, or make run's two pools."""
    port, site_port = free_port(), free_port()
    hooks = dict(env, CIVICLINE_PORT=str(port), CIVICLINE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    procs = []
    if split:
        hooks["CIVICLINE_ROLE"] = "webhooks"
        site = dict(hooks, CIVICLINE_ROLE="web", CIVICLINE_PORT=str(site_port), CIVICLINE_NICE="10")
        procs.append(
            (
                start_gunicorn(site, quiet=True, log="bench_load_site.log"),
                f"http://127.0.0.1:{site_port}",
            )
        )
    base = f"http://127.0.0.1:{port}"
    procs.append((start_gunicorn(hooks, quiet=True, log="bench_load.log"), base))
    public = procs[0][1]
    counts: dict[str, int] = {}
    try:
        for proc, url in procs:
            if not wait_healthy(url, proc):
                raise SystemExit("gunicorn did not become healthy")
        steady_turns(base, token, 3, "01")  # warm up the workers
        alone = summary(*steady_turns(base, token, LOAD_SECONDS, "02"))
        stop_at = threading.Event()
        threads = hammer(public, stop_at, counts)
        time.sleep(2)
        loaded = summary(*steady_turns(base, token, LOAD_SECONDS, "03"))
        stop_at.set()
        for t in threads:
            t.join()
    finally:
        for proc, _ in procs:
            stop(proc)
    return {
        "sms_alone": alone,
        "sms_under_load": loaded,
        "p99_ratio": round(loaded["p99_ms"] / alone["p99_ms"], 2),
        "public_and_login_requests": counts,
    }


def main() -> None:
    """Run both layouts and print/save the numbers."""
    model = ensure_model()
    rasa = RasaServer(model, log_path=ROOT / "reports" / "bench-load-rasa.log").start()
    tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-load-"))
    token = "bench-token-" + os.urandom(8).hex()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        CIVICLINE_RASA_URL=rasa.url,
        CIVICLINE_RASA_URL_ES="",  # English only (over a var/run.env from make run)
        CIVICLINE_RASA_TOKEN=rasa.token,
        TWILIO_AUTH_TOKEN=token,
        CIVICLINE_SECRET_KEY="bench-" + os.urandom(16).hex(),
    )
    upgrade(env["DATABASE_URL"])
    seed_cases(env["DATABASE_URL"])
    try:
        result = {
            "one_pool": run_layout(env, token, split=False),
            "two_pools_as_make_run": run_layout(env, token, split=True),
            "goal": "two_pools p99_ratio <= 2 and no errors",
        }
    finally:
        rasa.stop()
    out = ROOT / "reports" / "bench-load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
