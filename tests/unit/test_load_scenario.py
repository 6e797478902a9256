"""The load scenario (loadtest/) must not rot: its pacing gives the rate, its parsers work."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
from loadtest import locustfile as f
found = []
for c in (f.SmsReporter, f.Caller, f.StatusChecker, f.ConsoleStaff, f.Open311Reader):
    user = c.__new__(c)  # as if its last request had started and ended just now
    user._cp_last_run, user._cp_last_wait_time = time.perf_counter(), 0.0
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
