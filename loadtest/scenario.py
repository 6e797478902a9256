"""The load scenario's arithmetic and parsers, kept free of locust so a unit test can import it.

Locust is closed-loop by default (a user sends its next request only after the last answer).
The run is made open-loop by pacing: every simulated person starts one request every
`PACING_SECONDS`, measured from the start of the previous one (`Schedule` below), so
a slower answer does not delay the next arrival until it takes longer than the pacing itself
(10 s, 66 times the 150 ms goal; the request timeout is set to the pacing too). A class with
share `s` of the total rate `r` gets `round(r * s * PACING_SECONDS)` users, and its pacing is
then recomputed as users / (r * s), so the class's arrival rate is exactly `r * s` whatever the
rounding. Locust starts users in batches (floor of the spawn rate, all at once, once a second),
and its `constant_pacing` counts a user's first period from the moment it was started, so every
batch's requests arrived within milliseconds of each other, once a second, for the whole run.
Each user therefore keeps its own `Schedule`: a random phase within its pacing, then one start
every pacing after it. Console staff are paced at 2.5 s (fewer users,
fewer sign-ins): a console answer slower than that would slow their share.
"""

from __future__ import annotations

import csv
import math
import random
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RATE = 32.0  # NYC's record day, 276,827 calls, is 3.2 a second; the goal is 10 times it
PACING_SECONDS = 10.0  # a resident's time between two texts or two spoken answers
# Staff click faster than residents text, and fewer of them means fewer sign-ins (Argon2id, by
# design the slowest request) bunched at the start of the run: 8 supervisors at 32 requests/s.
CLASS_PACING: dict[str, float] = {"console": 2.5}

# Share of the total arrival rate per request type. NYC 311 takes about as many contacts online,
# by app and by text as by phone; CivicLine's texted reports stand in for that written share, so
# SMS report turns get the largest share and voice turns the next. Status look-ups are about a
# tenth of 311 contacts; staff console pages and Open311 machine readers read far less often
# than residents write, 10% each.
MIX: dict[str, float] = {
    "sms_report": 0.40,
    "voice_call": 0.30,
    "sms_status": 0.10,
    "console": 0.10,
    "open311": 0.10,
}

SMS_FILED = re.compile(r"filed as case (311-\d{6})")
VOICE_FILED = re.compile(r"case number is ([\d ,.\-]+)")
CASE_NUMBER = re.compile(r"311-\d{6}")


@dataclass(frozen=True)
class ClassPlan:
    """How many users a request type gets and the pacing that yields its share of the rate."""

    users: int
    pacing: float

    @property
    def rate(self) -> float:
        """Requests per second this class generates while every user keeps its pacing."""
        return self.users / self.pacing


def plan(rate: float = DEFAULT_RATE, pacing: float = PACING_SECONDS) -> dict[str, ClassPlan]:
    """Users and exact pacing per request type for a total arrival rate (requests/s)."""
    if rate <= 0 or pacing <= 0:
        raise ValueError("rate and pacing must be positive")
    plans = {}
    for name, share in MIX.items():
        wanted = CLASS_PACING.get(name, pacing)
        users = max(1, round(rate * share * wanted))
        plans[name] = ClassPlan(users=users, pacing=users / (rate * share))
    return plans


def total_users(plans: dict[str, ClassPlan]) -> int:
    """Locust's -u: every class's users (each class has a fixed count)."""
    return sum(p.users for p in plans.values())


def total_rate(plans: dict[str, ClassPlan]) -> float:
    """The arrival rate the plan generates, in requests per second."""
    return sum(p.rate for p in plans.values())


def spawn_rate(plans: dict[str, ClassPlan]) -> float:
    """Locust's -r: start users over one pacing period, so arrivals are spread evenly."""
    longest = max(p.pacing for p in plans.values())
    return math.ceil(total_users(plans) / longest * 100) / 100


def first_delay(pacing: float, rng: random.Random | None = None) -> float:
    """Seconds a new user waits before its first request: a uniform share of its pacing, so
    users started together in one of locust's batches do not send together ever after."""
    return (rng or random).uniform(0.0, pacing)


class Schedule:
    """One user's open-loop start times: a random phase, then one start every `pacing` s."""

    def __init__(
        self,
        pacing: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.pacing = pacing
        self.clock = clock
        self.due = clock() + first_delay(pacing, rng)

    def first_wait(self) -> float:
        """Seconds until the first start."""
        return max(0.0, self.due - self.clock())

    def next_wait(self) -> float:
        """Seconds from the end of a task to the next start (0 when the task overran it); a
        user more than a period behind starts again from now rather than bursting to catch up."""
        self.due += self.pacing
        now = self.clock()
        if self.due < now - self.pacing:
            self.due = now
        return max(0.0, self.due - now)


def ramp_seconds(plans: dict[str, ClassPlan]) -> float:
    """Seconds until every user has sent its first request: spawning, then the first delay."""
    longest = max(p.pacing for p in plans.values())
    return total_users(plans) / spawn_rate(plans) + longest


def twiml_root(xml: str) -> ET.Element:
    """The TwiML document's root; ValueError unless it is a well-formed <Response>."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"invalid TwiML: {exc}") from exc
    if root.tag != "Response":
        raise ValueError(f"invalid TwiML: root is <{root.tag}>, not <Response>")
    return root


def sms_texts(xml: str) -> list[str]:
    """The texts of every <Message> in an SMS reply (ValueError if the TwiML is invalid)."""
    return [m.text or "" for m in twiml_root(xml).iter("Message")]


def spoken(xml: str) -> str:
    """Everything <Say> speaks in a voice reply (ValueError if the TwiML is invalid)."""
    return " ".join(s.text or "" for s in twiml_root(xml).iter("Say"))


def filed_case_number(text: str) -> str | None:
    """The case number a filing reply gives: SMS "filed as case 311-000123", or the voice
    reading "Your case number is 3 1 1 0 0 0 1 2 3" digit by digit; None if nothing was filed."""
    found = SMS_FILED.search(text)
    if found:
        return found.group(1)
    spoken_number = VOICE_FILED.search(text)
    if spoken_number:
        digits = re.sub(r"\D", "", spoken_number.group(1))
        if len(digits) == 9 and digits.startswith("311"):
            return f"311-{digits[3:]}"
    return None


def streets(path: Path = ROOT / "data" / "streets.csv") -> list[str]:
    """The demo city's street names, where the simulated residents report problems."""
    with path.open(newline="") as handle:
        return [row["name"] for row in csv.DictReader(handle) if row.get("name")]
