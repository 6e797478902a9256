"""Closing a case with 20 linked reports: how many texts, to whom, and how long the closing takes.

Seeds a scratch database with an original pothole report, 20 reports of the same spot (linked
to it as they are filed), 4 numbers that said FOLLOW (one of them also a reporter, one opted
out), then closes the original as fixed through the same function the console uses and counts
the outbox: exactly one status text per number that asked for updates (none to the opted-out
one) and one "Is it fixed?" question per reporter. Timed against
closing a case with no linked reports, in the same run (median of 7 rounds each).
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import create_app
from cases.admin_models import User
from cases.conversations import set_opt_out
from cases.lifecycle import Change, update_case
from cases.migrate import upgrade
from cases.models import Case, OutboundMessage, utcnow
from cases.service import create_case
from cases.updates import follow
from cases.users import create_user
from settings import ROOT, Settings

LINKED = 20
ROUNDS = 7


class NoNLU:
    """Closing a case never parses a message."""

    def parse(self, text: str, language: str = "en") -> Any:  # pragma: no cover
        raise AssertionError("not used")


def one_round(linked: int) -> dict[str, Any]:
    """File an original and `linked` reports of it, add followers, close it; what was queued."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        app = create_app(Settings.from_env({}, database_url=url, rate_limits=False), nlu=NoNLU())
        rt = app.extensions["civicline"]
        with rt.Session() as s, s.begin():
            create_user(db_session=s, username="bench", password="x" * 12, role="supervisor")
            reporters = [f"+1555010{n:04d}" for n in range(linked + 1)]
            cases = [
                create_case(
                    db_session=s,
                    service_code="PW-POTHOLE",
                    service_name="Pothole",
                    agency_responsible="Department of Public Works",
                    description="deep pothole",
                    source="sms",
                    address="120 Elm Street",
                    contact_phone=phone,
                )
                for phone in reporters
            ]
            original = cases[0]
            followers = ["+15550109001", "+15550109002", reporters[-1], "+15550109003"]
            for phone in followers:
                follow(db_session=s, case=original, phone=phone, language="en")
            set_opt_out(db_session=s, phone="+15550109003", keyword="stop", now=utcnow())
            number = original.service_request_id
        with rt.Session() as s, s.begin():
            case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
            started = time.perf_counter()
            update_case(
                db_session=s,
                case=case,
                change=Change("closed", resolution="fixed", public_note="Filled on Tuesday."),
                actor=s.scalars(select(User)).one(),
                wording=rt.bot.wording,
                policy=rt.catalog.policy,
            )
            s.flush()
            seconds = time.perf_counter() - started
        with rt.Session() as s:
            queued = list(s.scalars(select(OutboundMessage)))
            closed = s.scalars(select(Case).where(Case.status == "closed")).all()
        rt.db.dispose()
    status = Counter(m.to for m in queued if m.reason == "case_status")
    questions = Counter(m.to for m in queued if m.reason == "fix_check")
    wanted = (set(reporters) | set(followers)) - {"+15550109003"}  # not the opted-out one
    return {
        "seconds": seconds,
        "cases_closed": len(closed),
        "numbers_that_asked": len(wanted),
        "status_texts": sum(status.values()),
        "most_texts_to_one_number": max(status.values()),
        "every_number_once": set(status) == wanted and set(status.values()) == {1},
        "fix_questions": sum(questions.values()),
        "most_questions_to_one_number": max(questions.values(), default=0),
    }


def main() -> int:
    """Run both shapes, interleaved, and write reports/bench-linked.json."""
    logging.disable(logging.WARNING)  # each scratch app warns about its missing secrets
    big, small = [], []
    for _ in range(ROUNDS):
        big.append(one_round(LINKED))
        small.append(one_round(0))
    result = {
        **{k: v for k, v in big[0].items() if k != "seconds"},
        "close_ms_with_20_linked": round(1000 * statistics.median(r["seconds"] for r in big), 1),
        "close_ms_alone": round(1000 * statistics.median(r["seconds"] for r in small), 1),
    }
    result["ratio"] = round(result["close_ms_with_20_linked"] / result["close_ms_alone"], 2)
    out = ROOT / "reports" / "bench-linked.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("\nClosing a case with 20 linked reports (same spot), 4 FOLLOWers (1 opted out)")
    for key, value in result.items():
        print(f"  {key:32} {value}")
    ok = result["every_number_once"] and result["most_questions_to_one_number"] <= 1
    print("  exactly one text per number that asked:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
