"""`make bench` (stack): CivicLine's throughput against a plain Rasa assistant on the same NLU.

The peer is a Rasa 3.6 assistant built from our config.yml pipeline and data/nlu.yml, with a
RulePolicy and one canned response per intent (trained once, cached by fingerprint), served by
`rasa run` with its REST channel. Closed-loop load at 8 and 20 concurrent, one cell at a time:
raw `/model/parse` on the peer, the peer's REST channel, and CivicLine (2 Rasa replicas,
2 gunicorn workers, signed Twilio SMS webhooks) doing first turns and 3-message reports
(problem, address, "yes"). The cells take turns in a few short rounds, so the machine's other
load drifts over all of them alike. Prints turns per second, the ratios and whether the goals
are met (CIVICLINE_BENCH_SECONDS of load per cell, in CIVICLINE_BENCH_ROUNDS rounds).
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import requests
import yaml
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import Case
from nlu.rasa_cli import cache_dir, ensure_model, run_rasa
from nlu.server import RasaServer, free_port
from scripts.chat import TO
from scripts.cpu import busy_cpu_seconds, cpu_seconds, own_cpu_seconds
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT

SECONDS = float(os.environ.get("CIVICLINE_BENCH_SECONDS", "12"))  # of load per cell, in all
ROUNDS = int(os.environ.get("CIVICLINE_BENCH_ROUNDS", "3"))
CONCURRENCY = (8, 20)
# First messages that file nothing yet: each is a report the bot must ask a place for.
FIRST = [
    "there's a huge pothole in the road",
    "the streetlight outside my house is out",
    "loud music from the neighbors every night",
    "someone dumped a mattress and old tires",
    "a big tree branch fell and is blocking the sidewalk",
    "graffiti all over the wall",
]
# Whole reports: the problem, an address on data/streets.csv, and "yes" to the summary.
REPORT = [
    ("there's a huge pothole in the road", "120 Elm Street", "yes"),
    ("big pothole in the road, it's deep", "44 Maple Avenue", "yes"),
    ("huge pothole on my block", "it's at 310 Oak Avenue", "yes"),
]
GOALS = {"first_vs_raw": 0.9, "report_vs_stack": 2.0}


# ------------------------------------------------------------------ the peer assistant
def peer_model() -> Path:
    """The peer Rasa assistant, trained once per fingerprint of its inputs (cached)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    nlu = (ROOT / "data" / "nlu.yml").read_text()
    intents = sorted(
        {e["intent"] for e in yaml.safe_load(nlu)["nlu"] if "intent" in e} | {"nlu_fallback"}
    )
    domain = {
        "version": "3.1",
        "intents": [i for i in intents if i != "nlu_fallback"],
        "responses": {f"utter_{i}": [{"text": f"({i})"}] for i in intents},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    rules = {
        "version": "3.1",
        "rules": [{"rule": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents],
    }
    peer_config = {k: v for k, v in config.items() if k != "policies"}
    peer_config["policies"] = [{"name": "RulePolicy"}]
    files = {
        "domain.yml": yaml.safe_dump(domain, sort_keys=False),
        "config.yml": yaml.safe_dump(peer_config, sort_keys=False),
        "data/nlu.yml": nlu,
        "data/rules.yml": yaml.safe_dump(rules, sort_keys=False),
    }
    digest = hashlib.sha256((ROOT / "requirements-rasa.txt").read_bytes())
    for name, text in files.items():
        digest.update(name.encode() + text.encode())
    models = cache_dir() / "models"
    models.mkdir(parents=True, exist_ok=True)
    name = f"peer-{digest.hexdigest()[:16]}"
    target = models / f"{name}.tar.gz"
    with open(models / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        print(f"training the peer assistant {name} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="civicline-peer-") as tmp:
            for rel, text in files.items():
                (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / rel).write_text(text)
            run_rasa(
                [
                    *("train", "--domain", "domain.yml", "--config", "config.yml"),
                    *("--data", "data", "--out", "out", "--fixed-model-name", name),
                ],
                cwd=Path(tmp),
            )
            shutil.move(str(Path(tmp) / "out" / f"{name}.tar.gz"), target)
    return target


class PeerServer(RasaServer):
    """`rasa run --enable-api` with the REST channel, serving the peer assistant."""

    def command(self) -> list[str]:
        """Our servers' command (the token kept one word) plus a credentials file that turns
        the REST channel on."""
        return [*super().command(), "--credentials", str(self.credentials)]

    @property
    def credentials(self) -> Path:
        return self.log_path.parent / "bench-peer-credentials.yml"

    def spawn(self) -> PeerServer:
        """Start the process after writing its credentials file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.credentials.write_text("rest:\n")
        super().spawn()
        return self


# ------------------------------------------------------------------ load
Unit = Callable[[requests.Session, int], int]  # one closed-loop unit of work: returns turns done


def closed_loop(unit: Unit, concurrency: int, seconds: float) -> dict[str, float]:
    """`concurrency` clients doing `unit` back to back for `seconds`; turns and time taken."""
    stop_at = time.perf_counter() + seconds
    counter = itertools.count()
    totals = {"turns": 0, "units": 0, "errors": 0}
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as http:
            while time.perf_counter() < stop_at:
                try:
                    turns = unit(http, next(counter))
                except Exception:
                    with lock:
                        totals["errors"] += 1
                    continue
                with lock:
                    totals["turns"] += turns
                    totals["units"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**totals, "seconds": time.perf_counter() - started}


def add(cells: dict[str, dict[str, float]], name: str, measured: dict[str, float]) -> None:
    """Add one round of a cell to its totals (turns per second over all its rounds)."""
    cell = cells.setdefault(name, {"turns": 0, "units": 0, "errors": 0, "seconds": 0.0})
    for key, value in measured.items():
        cell[key] = cell.get(key, 0) + value
    cell["turns_per_s"] = round(cell["turns"] / cell["seconds"], 1)


def raw_parse(peer: RasaServer) -> Unit:
    def unit(http: requests.Session, i: int) -> int:
        resp = http.post(
            f"{peer.url}/model/parse",
            json={"text": FIRST[i % len(FIRST)]},
            params={"token": peer.token},
            timeout=30,
        )
        resp.raise_for_status()
        return 1

    return unit


def rest_turns(peer: RasaServer, messages: Callable[[int], tuple[str, ...]]) -> Unit:
    def unit(http: requests.Session, i: int) -> int:
        sender = f"bench-{uuid.uuid4().hex}"
        for text in messages(i):
            resp = http.post(
                f"{peer.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=30,
            )
            resp.raise_for_status()
            if not resp.json():
                raise RuntimeError("the peer did not answer")
        return len(messages(i))

    return unit


def sms_turns(base: str, token: str, messages: Callable[[int], tuple[str, ...]]) -> Unit:
    validator = RequestValidator(token)

    def unit(http: requests.Session, i: int) -> int:
        sender = f"+1{uuid.uuid4().int % 10**10:010d}"
        for text in messages(i):
            form = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": "AC" + "0" * 32,
                "From": sender,
                "To": TO,
                "Body": text,
                "NumMedia": "0",
            }
            signature = validator.compute_signature(base + "/twilio/sms", form)
            resp = http.post(
                base + "/twilio/sms",
                data=form,
                headers={"X-Twilio-Signature": signature},
                timeout=30,
            )
            resp.raise_for_status()
        return len(messages(i))

    return unit


def first_turn(i: int) -> tuple[str, ...]:
    return (FIRST[i % len(FIRST)],)


def report(i: int) -> tuple[str, ...]:
    return REPORT[i % len(REPORT)]


# ------------------------------------------------------------------ the run
def count_cases(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(Case)) or 0)
    finally:
        engine.dispose()


class Stacks:
    """The peer assistant and CivicLine (2 Rasa replicas, 2 gunicorn workers), both started."""

    def __init__(self, logs: Path):
        self.peer = PeerServer(peer_model(), log_path=logs / "bench-stack-peer.log")
        model, token_nlu = ensure_model(), "bench-nlu-" + os.urandom(8).hex()
        self.replicas = [
            RasaServer(model, token=token_nlu, log_path=logs / f"bench-stack-rasa{i}.log")
            for i in (0, 1)
        ]
        self.tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-stack-"))
        port, self.token = free_port(), "bench-token-" + os.urandom(8).hex()
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{self.tmp / 'bench.db'}",
            CIVICLINE_PORT=str(port),
            CIVICLINE_WORKERS="2",
            CIVICLINE_RASA_URL=",".join(r.url for r in self.replicas),
            CIVICLINE_RASA_TOKEN=token_nlu,
            TWILIO_AUTH_TOKEN=self.token,
            CIVICLINE_PUBLIC_URL=self.base,
            CIVICLINE_SECRET_KEY="bench-" + os.urandom(16).hex(),
        )
        self.env["CIVICLINE_RASA_URL_ES"] = ""  # English only (over a var/run.env from make run)
        self.web: subprocess.Popen[bytes] | None = None

    def start(self) -> Stacks:
        """Start every server and warm each stack up (idle servers cost next to nothing)."""
        for server in (self.peer, *self.replicas):
            server.spawn()
        upgrade(self.env["DATABASE_URL"])
        for server in (self.peer, *self.replicas):
            server.wait_ready(240)
        self.web = start_gunicorn(self.env, quiet=True, log="bench_stack.log")
        if not wait_healthy(self.base, self.web):
            raise SystemExit("gunicorn did not become healthy")
        closed_loop(rest_turns(self.peer, report), 4, 2)
        closed_loop(sms_turns(self.base, self.token, report), 4, 3)
        return self

    def stop(self) -> None:
        """Stop every server and drop the scratch database."""
        if self.web is not None:
            stop(self.web)
        for server in (self.peer, *self.replicas):
            server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def processes(self) -> dict[str, int]:
        """The process (with its children) behind each part, for CPU accounting."""
        found = {"peer": self.peer.proc.pid if self.peer.proc else 0}
        found |= {f"replica{i}": r.proc.pid for i, r in enumerate(self.replicas) if r.proc}
        found["app"] = self.web.pid if self.web else 0
        return {name: pid for name, pid in found.items() if pid}

    def cells(self, n: int) -> dict[str, Unit]:
        """Each workload at one concurrency, in the order they are measured."""
        sms = partial(sms_turns, self.base, self.token)
        return {
            f"raw_first_{n}": raw_parse(self.peer),
            f"stack_first_{n}": rest_turns(self.peer, first_turn),
            f"civicline_first_{n}": sms(first_turn),
            f"stack_report_{n}": rest_turns(self.peer, report),
            f"civicline_report_{n}": sms(report),
        }


def cpu_now(processes: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part, by this process's clients and by the machine."""
    used = {f"cpu_{name}": cpu_seconds(pid) for name, pid in processes.items()}
    used["cpu_client"] = own_cpu_seconds()
    busy = busy_cpu_seconds()
    if busy is not None:
        used["cpu_machine"] = busy
    return used


def measure(stacks: Stacks) -> dict[str, dict[str, float]]:
    """Every cell, one at a time, in ROUNDS interleaved rounds (so slow drifts in the machine's
    other load hit every cell alike); SECONDS of load per cell in all, with the CPU each part
    used meanwhile."""
    cells: dict[str, dict[str, float]] = {}
    database = stacks.env["DATABASE_URL"]
    processes = stacks.processes()
    for _ in range(ROUNDS):
        for n in CONCURRENCY:
            for name, unit in stacks.cells(n).items():
                before = count_cases(database) if name.startswith("civicline_report") else 0
                cpu_before = cpu_now(processes)
                measured = closed_loop(unit, n, SECONDS / ROUNDS)
                cpu_after = cpu_now(processes)
                measured |= {k: cpu_after[k] - v for k, v in cpu_before.items() if k in cpu_after}
                if name.startswith("civicline_report"):
                    measured["cases_filed"] = count_cases(database) - before
                add(cells, name, measured)
    return cells


def cpu_table(cells: dict[str, dict[str, float]]) -> str:
    """Where each cell's CPU went: ms per turn by part, and how many of the cores were busy
    (the whole machine, other tenants included); near all of them means CPU-bound."""
    cores = os.cpu_count() or 1
    rows = [
        "| cell | turns/s | app ms/turn | Rasa ms/turn | client ms/turn | busy cores |",
        "|---|---|---|---|---|---|",
    ]
    for name, cell in cells.items():
        turns = cell["turns"] or 1
        rasa = sum(v for k, v in cell.items() if k in ("cpu_peer", "cpu_replica0", "cpu_replica1"))
        busy = cell.get("cpu_machine")
        rows.append(
            f"| {name} | {cell['turns_per_s']} | {cell.get('cpu_app', 0) / turns * 1000:.1f} | "
            f"{rasa / turns * 1000:.1f} | {cell.get('cpu_client', 0) / turns * 1000:.1f} | "
            + (f"{busy / cell['seconds']:.2f} of {cores} |" if busy is not None else "— |")
        )
    return "\n".join(rows)


def table(cells: dict[str, dict[str, float]]) -> tuple[str, dict[str, object]]:
    """The printed table and the ratios (each against cells measured in this run)."""
    rate = {k: v["turns_per_s"] for k, v in cells.items()}
    rows = ["| workload | raw parse | Rasa's own stack | CivicLine | ÷ raw | ÷ Rasa stack |"]
    rows.append("|---|---|---|---|---|---|")
    ratios: dict[str, object] = {}
    for kind, label in (("first", "first turns"), ("report", "3-message reports")):
        for n in CONCURRENCY:
            raw = rate.get(f"raw_{kind}_{n}")
            stack, ours = rate[f"stack_{kind}_{n}"], rate[f"civicline_{kind}_{n}"]
            vs_raw = round(ours / raw, 2) if raw else None
            vs_stack = round(ours / stack, 2)
            ratios[f"{kind}_{n}"] = {"vs_raw": vs_raw, "vs_stack": vs_stack}
            rows.append(
                f"| {label}, {n} concurrent | {raw or '—'} | {stack} | {ours} | "
                f"{vs_raw or '—'} | {vs_stack} |"
            )
    goals = {
        f"first turns ≥ {GOALS['first_vs_raw']}× raw parse": all(
            (ratios[f"first_{n}"]["vs_raw"] or 0) >= GOALS["first_vs_raw"] for n in CONCURRENCY
        ),
        f"3-message reports ≥ {GOALS['report_vs_stack']}× Rasa's stack": all(
            ratios[f"report_{n}"]["vs_stack"] >= GOALS["report_vs_stack"] for n in CONCURRENCY
        ),
    }
    rows.append("")
    rows += [f"goal {name}: {'met' if ok else 'NOT met'}" for name, ok in goals.items()]
    return "\n".join(rows), {"ratios": ratios, "goals": goals}


def main() -> None:
    """Measure every cell in turn (never two at once) and print the table."""
    logs = ROOT / "reports"
    logs.mkdir(exist_ok=True)
    stacks = Stacks(logs)
    try:  # a server that fails to start must not leave the others running (~0.6 GB each)
        cells = measure(stacks.start())
    finally:
        stacks.stop()
    text, summary = table(cells)
    for n in CONCURRENCY:
        filed = cells[f"civicline_report_{n}"]
        if filed["cases_filed"] != filed["units"]:
            print(f"warning: {filed['units']} reports sent at {n}, {filed['cases_filed']} filed")
    result = {"seconds_per_cell": SECONDS, "rounds": ROUNDS, "cells": cells, **summary}
    (logs / "bench-stack.json").write_text(json.dumps(result, indent=2))
    print(text)
    print()
    print(cpu_table(cells))


if __name__ == "__main__":
    main()
