"""`make load`: the "Scale out" acceptance run, open-loop with locust, on PostgreSQL.

Starts a throwaway PostgreSQL (migrated), two Rasa replicas on `make model`'s cached model,
CivicLine under gunicorn (CIVICLINE_WORKERS, default 2; outbound texts are not sent: no outbox
worker runs, so they wait in the outbox) and a staff user, then runs `loadtest/locustfile.py`
headless at --rate requests/s for --minutes. Afterwards it counts the cases in the database
against the reports the locustfile saw filed (exactly one per completed conversation, none for
the others), reads locust's CSVs for the achieved rate, errors and p50/p95/p99 per request
type, and writes `loadtest/results/<UTC date>-<minutes>min.md` with locust's CSVs beside it.
Goals: p99 < 150 ms overall, zero errors, cases == completed reports.

    make load                          # the 10-minute run at 32 requests/s
    make load ARGS="--minutes 1"       # a short trial
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.models import Case
from cases.users import create_user
from loadtest import scenario
from nlu.rasa_cli import ensure_model
from nlu.server import RasaServer, free_port
from scripts.cpu import cpu_pressure_us, cpu_seconds
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT
from tests.postgres_server import PostgresServer

P99_GOAL_MS = 150.0
STAFF_USER = "load-supervisor"
WORKERS = os.environ.get("CIVICLINE_WORKERS", "2")  # gunicorn workers, as `make run`
THREADS = os.environ.get("CIVICLINE_THREADS", "1")


@dataclass
class Counts:
    """Cases in the store against the conversations the locustfile recorded."""

    completed: int
    incomplete: int
    cases: int
    conversations_with_duplicates: int
    incomplete_with_case: int
    cases_without_conversation: int
    wrong_number: int

    @property
    def ok(self) -> bool:
        """Exactly one case per completed report, and no other case at all."""
        return (
            self.cases == self.completed
            and not self.conversations_with_duplicates
            and not self.incomplete_with_case
            and not self.cases_without_conversation
            and not self.wrong_number
        )


def machine() -> str:
    """Cores, memory and load: the figures differ a lot between machines."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores (nproc), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, load average before the run {load}"
    )


def commit() -> str:
    """The commit under test, marked when the tree has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = (
        " (with uncommitted changes)"
        if git("status", "--porcelain", "--untracked-files=no")
        else ""
    )
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    return f"{git('rev-parse', '--short', 'HEAD')} on {branch}{dirty}"


def postmaster_pid(server: PostgresServer) -> int | None:
    """The PostgreSQL server's main process (its children serve the connections)."""
    try:
        return int((server.dir / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def create_staff(database_url: str, password: str) -> None:
    """The supervisor the console users sign in as."""
    sessions = make_session_factory(make_engine(database_url))
    with sessions() as s, s.begin():
        create_user(db_session=s, username=STAFF_USER, password=password, role="supervisor")


def read_records(records: Path) -> list[dict[str, Any]]:
    """One entry per conversation the locust processes recorded (a start, and an end if it
    ended before the run did), keyed by its phone number; without an end it is incomplete."""
    merged: dict[str, dict[str, Any]] = {}
    for path in sorted(records.glob("conversations-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                merged.setdefault(entry["phone"], {"completed": False, "case": None})
                merged[entry["phone"]].update(entry)
    return list(merged.values())


def count_cases(database_url: str, conversations: list[dict[str, Any]]) -> Counts:
    """Compare the store's cases, per reporter number, with the recorded conversations."""
    sessions = make_session_factory(make_engine(database_url))
    with sessions() as s:
        rows = s.execute(select(Case.contact_phone, Case.service_request_id)).all()
    by_phone: dict[str, list[str]] = {}
    for phone, number in rows:
        by_phone.setdefault(phone or "", []).append(number)
    completed = [c for c in conversations if c.get("completed")]
    incomplete = [c for c in conversations if not c.get("completed")]
    known = {c["phone"] for c in conversations}
    return Counts(
        completed=len(completed),
        incomplete=len(incomplete),
        cases=len(rows),
        conversations_with_duplicates=sum(len(v) > 1 for v in by_phone.values()),
        incomplete_with_case=sum(bool(by_phone.get(c["phone"])) for c in incomplete),
        cases_without_conversation=sum(len(v) for p, v in by_phone.items() if p not in known),
        wrong_number=sum(by_phone.get(c["phone"]) != [c["case"]] for c in completed),
    )


def read_stats(prefix: Path) -> list[dict[str, str]]:
    """Rows of locust's <prefix>_stats.csv (one per request name, then "Aggregated")."""
    with Path(f"{prefix}_stats.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def steady_rate(prefix: Path, ramp_seconds: float) -> float | None:
    """Median requests/s of the aggregated history once every user has started."""
    path = Path(f"{prefix}_stats_history.csv")
    if not path.exists():
        return None
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("Name") == "Aggregated"]
    if not rows:
        return None
    start = int(rows[0]["Timestamp"])
    steady = [float(r["Requests/s"]) for r in rows if int(r["Timestamp"]) - start > ramp_seconds]
    return statistics.median(steady) if steady else None


def ms(value: str) -> float:
    """A locust CSV latency cell (milliseconds, "N/A" when there were no requests)."""
    try:
        return float(value)
    except ValueError:
        return float("nan")


def summary(
    *,
    minutes: float,
    rate: float,
    users: int,
    stats: list[dict[str, str]],
    run_seconds: float,
    steady: float | None,
    counts: Counts,
    workers: str,
    machine_line: str,
    commit_line: str,
    stats_name: str,
    started: datetime,
    cpu: dict[str, float],
) -> tuple[str, bool]:
    """The Markdown report and whether every goal was met."""
    total = next(r for r in stats if r["Name"] == "Aggregated")
    requests_total = int(total["Request Count"])
    failures = int(total["Failure Count"])
    p99 = ms(total["99%"])
    mine = sum(secs for name, secs in cpu.items() if not name.startswith("_"))
    goals = {
        f"p99 < {P99_GOAL_MS:.0f} ms (overall)": p99 < P99_GOAL_MS,
        "zero errors": failures == 0,
        "one case per completed report, none otherwise": counts.ok,
    }
    passed = all(goals.values())
    trial = (
        "" if minutes >= 10 else f" ({minutes:g}-minute trial, not the 10-minute acceptance run)"
    )
    lines = [
        f"# Load run {started:%Y-%m-%d %H:%M} UTC: {minutes:g} min at {rate:g} requests/s{trial}",
        "",
        f"**{'PASS' if passed else 'FAIL'}**",
        "",
        f"- machine: {machine_line}",
        f"- commit: {commit_line}",
        f"- set-up: PostgreSQL (throwaway), 2 Rasa replicas, gunicorn {workers}, "
        "outbound texts not sent; locust headless, open-loop by constant pacing at a random phase "
        f"({users} users, loadtest/scenario.py)",
        f"- achieved rate: {requests_total / run_seconds:.2f} requests/s over the whole run "
        f"({requests_total} requests in {run_seconds:.0f} s, ramp included)"
        + (f"; {steady:.2f} requests/s median once every user had started" if steady else ""),
        "- CPU pressure during the run (share of the time some runnable task on the machine "
        "waited for a core, /proc/pressure/cpu; near 0 on a quiet machine): "
        + (f"{cpu['_pressure']:.0%}" if "_pressure" in cpu else "unknown"),
        "- CPU used during the run (seconds, per request, average cores): "
        + "; ".join(
            f"{name} {secs:.1f} s, {secs / max(requests_total, 1) * 1000:.1f} ms, "
            f"{secs / run_seconds:.2f}"
            for name, secs in cpu.items()
            if not name.startswith("_")
        )
        + f"; all of them {mine / run_seconds:.2f} of {os.cpu_count()} cores",
        f"- errors: {failures}",
        f"- cases in the database: {counts.cases}; completed reports (SMS and voice): "
        f"{counts.completed}; incomplete conversations: {counts.incomplete}",
        f"- numbers with more than one case: {counts.conversations_with_duplicates}; incomplete "
        f"conversations with a case: {counts.incomplete_with_case}; cases from no recorded "
        f"conversation: {counts.cases_without_conversation}; completed reports whose case "
        f"number differs from the store's: {counts.wrong_number}",
        "",
        "| goal | result |",
        "|---|---|",
        *[f"| {goal} | {'PASS' if ok else 'FAIL'} |" for goal, ok in goals.items()],
        "",
        "| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in stats:
        name = "**overall**" if row["Name"] == "Aggregated" else f"`{row['Name']}`"
        lines.append(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.2f} | {row['50%']} | {row['95%']} | {row['99%']} | "
            f"{ms(row['Max Response Time']):.0f} |"
        )
    lines += [
        "",
        f"Locust's CSVs: `{stats_name}_stats.csv`, `{stats_name}_stats_history.csv`, "
        f"`{stats_name}_failures.csv` (percentiles are locust's, rounded to 2 significant "
        "digits above 100 ms).",
        "",
    ]
    return "\n".join(lines), passed


def locust_command(
    prefix: Path, host: str, users: int, spawn: float, run_seconds: int
) -> list[str]:
    """locust headless for the run, writing its CSVs under `prefix`."""
    return [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        f"{spawn:g}",
        "--run-time",
        f"{run_seconds}s",
        "--stop-timeout",
        f"{scenario.PACING_SECONDS:g}s",  # a request in flight at the end is finished
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]


def serve_and_run(
    postgres: PostgresServer, args: argparse.Namespace, tmp: Path, plans: dict[str, Any]
) -> None:
    """Migrate, add the staff user, start Rasa and gunicorn, run locust; stop them again."""
    users, spawn = scenario.total_users(plans), scenario.spawn_rate(plans)
    model = ensure_model(log=lambda s: print(f"    {s}", flush=True))
    upgrade(postgres.url)
    password = secrets.token_urlsafe(18)
    create_staff(postgres.url, password)
    token = secrets.token_urlsafe(16)
    servers = [
        RasaServer(model, token=token, log_path=tmp / f"rasa-{n}.log").spawn() for n in (1, 2)
    ]
    gunicorn = None
    try:
        for server in servers:
            server.wait_ready(240)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        auth_token = secrets.token_hex(16)
        app_env = dict(
            os.environ,
            DATABASE_URL=postgres.url,
            CIVICLINE_RASA_URL=",".join(s.url for s in servers),
            CIVICLINE_RASA_URL_ES="",  # English servers only (over a var/run.env from make run)
            CIVICLINE_RASA_TOKEN=token,
            CIVICLINE_PORT=str(port),
            CIVICLINE_PUBLIC_URL=base,
            CIVICLINE_WORKERS=WORKERS,
            CIVICLINE_THREADS=THREADS,
            CIVICLINE_TRUSTED_PROXIES="1",  # locust's readers come from distinct addresses
            TWILIO_AUTH_TOKEN=auth_token,
            CIVICLINE_SECRET_KEY=secrets.token_hex(32),
        )
        app_env.pop("CIVICLINE_SMS_FROM", None)  # texts wait in the outbox: nothing is sent
        gunicorn = start_gunicorn(app_env, quiet=True, log="load_run.log")
        if not wait_healthy(base, gunicorn, timeout=120):
            raise SystemExit("gunicorn did not become healthy")
        locust_env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            CIVICLINE_LOAD_RATE=f"{args.rate:g}",
            CIVICLINE_PUBLIC_URL=base,
            TWILIO_AUTH_TOKEN=auth_token,
            CIVICLINE_LOAD_STAFF_USER=STAFF_USER,
            CIVICLINE_LOAD_STAFF_PASSWORD=password,
            CIVICLINE_LOAD_RECORDS=str(tmp / "records"),
        )
        run_seconds = round(args.minutes * 60)
        print(f"==> locust: {users} users, spawn {spawn:g}/s, {run_seconds} s against {base}")
        watched = {"gunicorn": gunicorn.pid, "PostgreSQL": postmaster_pid(postgres)}
        watched |= {f"Rasa {n}": s.proc.pid for n, s in enumerate(servers, 1) if s.proc}
        before = {name: cpu_seconds(pid) for name, pid in watched.items() if pid}
        pressure, clock = cpu_pressure_us(), time.monotonic()
        locust = subprocess.Popen(
            locust_command(tmp / "locust", base, users, spawn, run_seconds),
            cwd=ROOT,
            env=locust_env,
        )
        _, _, usage = os.wait4(locust.pid, 0)  # exits 1 when a request failed: counted later
        locust.returncode = 0
        cpu = {name: cpu_seconds(watched[name]) - used for name, used in before.items()}
        cpu["locust"] = usage.ru_utime + usage.ru_stime
        after = cpu_pressure_us()
        if pressure is not None and after is not None:  # other tenants' load shows here too
            cpu["_pressure"] = (after - pressure) / 1e6 / (time.monotonic() - clock)
        (tmp / "cpu.json").write_text(json.dumps(cpu))
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        for server in servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    """Start everything, run locust, count, write the summary; 0 only if every goal is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument(
        "--rate", type=float, default=scenario.DEFAULT_RATE, help="requests per second"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "loadtest" / "results", help="where results go"
    )
    args = parser.parse_args(argv)
    plans = scenario.plan(args.rate)
    started = datetime.now(UTC)
    machine_line, commit_line = machine(), commit()
    print(
        f"==> {scenario.total_users(plans)} users, {scenario.total_rate(plans):.2f} requests/s, "
        f"{args.minutes:g} min"
    )
    tmp = Path(tempfile.mkdtemp(prefix="civicline-load-"))
    postgres = PostgresServer().start()
    try:
        serve_and_run(postgres, args, tmp, plans)
        counts = count_cases(postgres.url, read_records(tmp / "records"))
    finally:
        postgres.stop()

    prefix = tmp / "locust"
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{started:%Y-%m-%d}-{args.minutes:g}min"
    if args.rate != scenario.DEFAULT_RATE:
        stem += f"-{args.rate:g}rps"
    for part in ("stats", "stats_history", "failures"):
        source = Path(f"{prefix}_{part}.csv")
        if source.exists():
            shutil.copy(source, args.out / f"{stem}_{part}.csv")
    report, passed = summary(
        minutes=args.minutes,
        rate=args.rate,
        users=scenario.total_users(plans),
        stats=read_stats(prefix),
        run_seconds=round(args.minutes * 60),
        steady=steady_rate(prefix, scenario.ramp_seconds(plans) + 2),
        counts=counts,
        workers=f"{WORKERS} workers x {THREADS} threads",
        machine_line=machine_line,
        commit_line=commit_line,
        stats_name=stem,
        started=started,
        cpu=json.loads((tmp / "cpu.json").read_text()),
    )
    out = args.out / f"{stem}.md"
    out.write_text(report)
    print(report)
    print(f"==> {out}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
