"""`make bench` (model swap): SMS at 10 turns/s while both Rasa replicas get a new model.

Starts 2 Rasa replicas and gunicorn (2 workers) on a scratch database, as `make run` does, and
sends signed SMS turns open-loop at RATE per second throughout. Four windows are measured:
steady (no swap), the old mechanism (PUT /model into each replica in turn while it still gets
parses: what activation did before the reconciler), and the reconciler's rollout and rollback
(each replica out of rotation first, warmed up before it goes back, paced). Reports p50/p99/max
per window and p99 ÷ steady p99 (goal for the reconciler: at most 2).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cases.db import make_engine, make_session_factory
from cases.job_models import Job
from cases.migrate import upgrade
from cases.nlu_models import ModelVersion
from nlu import activation, versions
from nlu.model_store import local_copy, save_model
from nlu.rasa_cli import ensure_model
from nlu.reconcile import Reconciler
from nlu.server import RasaServer, free_port
from scripts.bench import SCRIPT, percentile
from scripts.chat import send
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT

RATE = 10.0  # SMS turns per second, as in the measurement
STEADY_SECONDS = float(os.environ.get("CIVICLINE_BENCH_SECONDS", "20"))


class Load:
    """Open-loop SMS turns in a background thread; each sample is (sent at, latency ms, ok)."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.samples: list[tuple[float, float, bool]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, i: int, body: str) -> None:
        sent = time.monotonic()
        ok = True
        try:
            replies = send(self.base, self.base, self.token, f"+1555{i // len(SCRIPT):07d}", body)
            ok = not any("trouble" in r for r in replies)
        except Exception:
            ok = False
        with self.lock:
            self.samples.append((sent, (time.monotonic() - sent) * 1000, ok))

    def _run(self) -> None:
        lines = itertools.cycle(SCRIPT)
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in itertools.count():
                if self.stop.is_set():
                    break
                delay = start + i / RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self._one, i, next(lines))

    def window(self, since: float, until: float) -> dict[str, float]:
        """The turns sent between two moments."""
        with self.lock:
            rows = [(ms, ok) for sent, ms, ok in self.samples if since <= sent < until]
        times = [ms for ms, _ in rows]
        return {
            "seconds": round(until - since, 1),
            "turns": len(rows),
            "errors": sum(1 for _, ok in rows if not ok),
            "p50_ms": round(percentile(times, 0.5), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
            "max_ms": round(max(times), 1),
            "over_500_ms": sum(1 for ms in times if ms > 500),
        }


def old_swap(servers: list[RasaServer], model: Path) -> None:
    """What activation did before: PUT /model into each replica in turn, parses still flowing."""
    for server in servers:
        server.client(timeout=180).load_model(server.url, str(model), timeout=180)


def rollout(sessions, reconciler: Reconciler, version_id: int, rollback: bool) -> str:
    """Record the wanted version and let the reconciler roll it out; the job's outcome."""
    with sessions() as s, s.begin():
        job_id = activation.enqueue(
            db_session=s, version_id=version_id, user=None, reason="bench", rollback=rollback
        ).id
    stop = threading.Event()
    thread = threading.Thread(target=reconciler.run, args=(stop, 0.2), daemon=True)
    thread.start()
    try:
        while True:
            with sessions() as s:
                job = s.get(Job, job_id)
                if job.status in ("done", "failed"):
                    return f"{job.status}: {job.result}"
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(60)


def main() -> None:
    """Measure the four windows and print/save them."""
    model = ensure_model()
    tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-activation-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    cache = tmp / "models" / "cache"
    with sessions() as s, s.begin():
        v1 = versions.register_served(db_session=s, model_path=model, fp="served")
        v2 = ModelVersion(created_by="bench", status="trained", progress=100, fingerprint="v2")
        s.add(v2)
        s.flush()
        save_model(db_session=s, version=v2, path=model)
        one = local_copy(db_session=s, version_id=v1.id, cache_dir=cache)
        two = local_copy(db_session=s, version_id=v2.id, cache_dir=cache)
        ids = (v1.id, v2.id)
    token = "bench-token-" + os.urandom(8).hex()
    servers = [
        RasaServer(one, token=token, log_path=ROOT / "reports" / f"bench-activation-{i}.log")
        for i in range(2)
    ]
    for server in servers:
        server.spawn()
    for server in servers:
        server.wait_ready(240)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        CIVICLINE_PORT=str(port),
        CIVICLINE_WORKERS="2",
        CIVICLINE_PUBLIC_URL=base,
        CIVICLINE_RASA_URL=",".join(s.url for s in servers),
        CIVICLINE_RASA_URL_ES="",
        CIVICLINE_RASA_TOKEN=token,
        CIVICLINE_MACHINE="bench",
        CIVICLINE_MODEL_DIR=str(tmp / "models"),
        TWILIO_AUTH_TOKEN=token,
        CIVICLINE_SECRET_KEY="bench-" + os.urandom(16).hex(),
    )
    web = start_gunicorn(env, quiet=True, log="bench_activation.log")
    reconciler = Reconciler(
        sessions=sessions,
        machine="bench",
        replicas={"en": [s.url for s in servers]},
        token=token,
        cache_dir=cache,
    )
    result: dict[str, object] = {}
    beating = threading.Event()  # set: the heartbeat stops
    try:
        if not wait_healthy(base, web):
            raise SystemExit("gunicorn did not become healthy")
        reconciler.step()  # the replicas report in, serving version 1
        # As on a machine, the heartbeat keeps the replicas' rows fresh all along (a pass
        # writes a row only when its state changes; without it they would read as gone).
        threading.Thread(target=reconciler.heartbeat, args=(beating, 1.0), daemon=True).start()
        load = Load(base, token)
        load.thread.start()
        time.sleep(3)  # warm-up, not measured
        t0 = time.monotonic()
        time.sleep(STEADY_SECONDS)
        t1 = time.monotonic()
        for _ in range(3):  # the old way, 3 times over: long enough a window to measure
            old_swap(servers, two)  # version 2 into each replica, serving throughout
            old_swap(servers, one)  # and back (as the old rollback did)
        t2 = time.monotonic()
        time.sleep(3)
        reconciler.step()  # the replicas report version 1 again
        t3 = time.monotonic()
        outcome = rollout(sessions, reconciler, ids[1], rollback=False)
        t4 = time.monotonic()
        time.sleep(2)
        t5 = time.monotonic()
        back = rollout(sessions, reconciler, ids[0], rollback=True)
        t6 = time.monotonic()
        time.sleep(2)
        load.stop.set()
        time.sleep(3)  # the last turns come back
        steady = load.window(t0, t1)
        result = {
            "rate_per_second": RATE,
            "steady": steady,
            "old_swap_and_back": load.window(t1, t2),
            "reconciler_rollout": load.window(t3, t4) | {"job": outcome},
            "reconciler_rollback": load.window(t5, t6) | {"job": back},
        }
        for name in ("old_swap_and_back", "reconciler_rollout", "reconciler_rollback"):
            window = result[name]
            assert isinstance(window, dict)
            window["p99_vs_steady"] = round(window["p99_ms"] / steady["p99_ms"], 2)
        result["goal"] = "reconciler p99_vs_steady <= 2, no errors"
    finally:
        beating.set()
        stop(web)
        for server in servers:
            server.stop()
    out = ROOT / "reports" / "bench-activation.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
