"""The load scenario (loadtest/) must not rot: its pacing gives the rate, its parsers work."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Callable

import pytest

from loadtest import scenario
from settings import ROOT


def test_pacing_gives_32_requests_a_second_in_the_mix() -> None:
    plans = scenario.plan(32)
    assert scenario.total_rate(plans) == pytest.approx(32.0)
    assert sum(scenario.MIX.values()) == pytest.approx(1.0)
    for name, share in scenario.MIX.items():
        assert plans[name].rate == pytest.approx(32 * share)
        assert plans[name].pacing >= 2  # open loop: far beyond any acceptable answer time
    assert scenario.total_users(plans) == 296
    assert scenario.spawn_rate(plans) == pytest.approx(29.6)  # phases spread over one period


@pytest.mark.parametrize("rate", [1, 3.2, 7, 32, 50])
def test_pacing_is_exact_whatever_the_rounding(rate: float) -> None:
    assert scenario.total_rate(scenario.plan(rate)) == pytest.approx(rate)


def test_case_numbers_are_parsed_from_sms_and_voice_twiml() -> None:
    sms = (
        "<?xml version='1.0' encoding='UTF-8'?><Response><Message>Thanks! Your report is filed "
        "as case 311-000123 (Pothole, Department of Public Works). Follow it at "
        'http://x/c/311-000123-k7Q2xR or text "status 311-000123".</Message></Response>'
    )
    assert scenario.filed_case_number(" ".join(scenario.sms_texts(sms))) == "311-000123"
    voice = (
        '<Response><Gather action="/twilio/voice/gather?t=4"><Say>Your report is filed. Your '
        "case number is 3 1 1, 0 0 0 1 2 3. Again, that's 3 1 1, 0 0 0 1 2 3. Would you like "
        "me to text the case number?</Say></Gather></Response>"
    )
    assert scenario.filed_case_number(scenario.spoken(voice)) == "311-000123"
    asked = "<Response><Message>Where is the pothole? Reply YES to file it</Message></Response>"
    assert scenario.filed_case_number(" ".join(scenario.sms_texts(asked))) is None
    with pytest.raises(ValueError):
        scenario.sms_texts("<html>502 Bad Gateway</html>")
    with pytest.raises(ValueError):
        scenario.sms_texts("Internal Server Error")


def test_the_locustfile_imports_with_the_planned_users_and_pacing() -> None:
    """In a child process: locust's gevent monkey-patching must not reach the test session."""
    probe = """
import json, time
from loadtest import locustfile as f, scenario
found = []
for c in (f.SmsReporter, f.Caller, f.StatusChecker, f.ConsoleStaff, f.Open311Reader):
    user = c.__new__(c)  # as if its last request had started and ended just now
    user.schedule = scenario.Schedule(c.pacing)
    user.schedule.due = time.monotonic()
    found.append([c.fixed_count, c.wait_time(user)])
print(json.dumps(found))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT), CIVICLINE_LOAD_RATE="32")
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert sum(users / pacing for users, pacing in found) == pytest.approx(32.0, rel=1e-3)
    assert sum(users for users, _ in found) == 296


def _busiest_window(arrivals: list[float], width: float) -> int:
    """The most arrivals inside any window `width` seconds long."""
    arrivals = sorted(arrivals)
    most, first = 0, 0
    for last, t in enumerate(arrivals):
        while t - arrivals[first] >= width:
            first += 1
        most = max(most, last - first + 1)
    return most


def _arrivals(
    plans: dict[str, scenario.ClassPlan], delay: Callable[[float], float], window: float = 10
) -> list[float]:
    """Request times in `window` seconds after the ramp, when locust starts floor(spawn rate)
    users at once, once a second, and each then keeps its pacing."""
    batch = math.floor(scenario.spawn_rate(plans))
    pacings = [p.pacing for p in plans.values() for _ in range(p.users)]
    ramp = scenario.ramp_seconds(plans)
    times = []
    for n, pacing in enumerate(pacings):
        t = n // batch + delay(pacing)
        while t < ramp + window:
            times.append(t)
            t += pacing
    return [t for t in times if t >= ramp]


def test_users_started_in_one_batch_do_not_send_together() -> None:
    plans = scenario.plan(32.0)
    rng = random.Random(7)
    batched = _arrivals(plans, lambda pacing: 0.0)
    staggered = _arrivals(plans, lambda pacing: scenario.first_delay(pacing, rng))
    # each batch of 29 users sends within the same instant, once a second, for the whole run
    assert _busiest_window(batched, 0.05) >= 25
    # a 50 ms window holds 1.6 requests on average at 32/s; Poisson-like spread stays near it
    assert _busiest_window(staggered, 0.05) <= 8
    assert 0.8 * 32 * 10 <= len(staggered) <= 1.2 * 32 * 10


def test_a_schedule_keeps_its_random_phase_whatever_the_tasks_take() -> None:
    now = [100.0]
    schedule = scenario.Schedule(10.0, random.Random(3), clock=lambda: now[0])
    phase = schedule.first_wait()
    assert 0 < phase < 10
    now[0] += phase
    starts = []
    for took in (0.02, 3.0, 0.5, 9.9, 0.1):  # how long each task ran
        starts.append(now[0])
        now[0] += took
        now[0] += schedule.next_wait()
    assert [round(t - starts[0], 6) for t in starts] == [0, 10, 20, 30, 40]
    assert starts[0] == pytest.approx(100 + phase)


def test_a_schedule_far_behind_starts_again_rather_than_bursting() -> None:
    now = [0.0]
    schedule = scenario.Schedule(10.0, random.Random(1), clock=lambda: now[0])
    now[0] += schedule.first_wait() + 35.0  # a task that hung for three and a half periods
    assert schedule.next_wait() == 0.0
    assert schedule.next_wait() == pytest.approx(10.0)  # then one period, not three at once
