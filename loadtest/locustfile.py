"""The CivicLine load scenario for locust: residents texting and calling, staff and Open311 readers.

Open-loop at a fixed arrival rate (CIVICLINE_LOAD_RATE requests/s, default 32): each request
type has a fixed number of users, each starting one request every few seconds whatever the
answers take (constant pacing); `loadtest/scenario.py` explains the arithmetic and the mix.
`scripts/load_run.py` (`make load`) starts the services and runs this file; by hand:

    CIVICLINE_PUBLIC_URL=... TWILIO_AUTH_TOKEN=... CIVICLINE_LOAD_STAFF_USER=... \\
    CIVICLINE_LOAD_STAFF_PASSWORD=... CIVICLINE_LOAD_RECORDS=dir \\
    locust -f loadtest/locustfile.py --headless -u 320 -r 32 --run-time 1m --host http://...

Every webhook is signed as Twilio signs it; requests are named by route so stats aggregate;
a non-2xx answer, invalid TwiML or an unexpected page counts as a failure. Each SMS or voice
conversation is written to CIVICLINE_LOAD_RECORDS/conversations-<pid>.jsonl when it starts and
when it ends, with the case number its last reply gave (if any), so the runner can count cases
per conversation (one cut off by the end of the run has a start and no end: incomplete).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, task
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # loadtest.scenario, by hand too
from loadtest import scenario

RATE = float(os.environ.get("CIVICLINE_LOAD_RATE", str(scenario.DEFAULT_RATE)))
PLAN = scenario.plan(RATE)
PUBLIC_URL = os.environ.get("CIVICLINE_PUBLIC_URL", "http://localhost:8000").rstrip("/")
AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
WEB_HOST = os.environ.get("CIVICLINE_LOAD_WEB_HOST") or None  # the console/Open311 pool
RECORDS = Path(os.environ.get("CIVICLINE_LOAD_RECORDS", "var/load-records"))
ACCOUNT_SID = "AC" + "0" * 32
TO = "+15550100311"
TIMEOUT = scenario.PACING_SECONDS  # beyond the pacing a slow answer would delay arrivals
STREETS = scenario.streets()
PROBLEMS = (
    "there's a huge pothole in the road",
    "the streetlight outside my house is out",
    "someone sprayed graffiti all over the wall",
    "big pothole, nearly lost a tire",
)
SPOKEN = (
    "there's a pothole in front of {place}",
    "the streetlight is out in front of {place}",
    "there is graffiti on the wall at {place}",
)
MAX_TURNS = 8  # a conversation not filed by then is given up (and counted as incomplete)
_phones = itertools.count(1)
_addresses = itertools.count(1)
# (phone, case number) of reports filed in this process, for status checks and readers
FILED: list[tuple[str, str]] = []


def fresh_phone() -> str:
    """A number no other conversation of this run uses (process id and counter)."""
    return f"+1555{os.getpid() % 100:02d}{next(_phones) % 100000:05d}"


def client_address() -> str:
    """A distinct address per reader/staff user, as behind the city's load balancer."""
    n = (os.getpid() % 64) * 1024 + next(_addresses) % 1024
    return f"198.18.{n // 256 % 256}.{n % 256}"


def record(entry: dict[str, Any]) -> None:
    """Append one finished conversation to this process's records file."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    with (RECORDS / f"conversations-{os.getpid()}.jsonl").open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


def failed(resp: Any) -> str:
    """Why a request failed: its HTTP status, or the client error when no answer came."""
    if resp.status_code:
        return f"HTTP {resp.status_code}"
    error = resp.error
    if "timed out" in str(error).lower():
        return f"no answer within {TIMEOUT:g} s"
    return f"no answer: {type(error).__name__}"


def signed(path: str, form: dict[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature header for a form posted to `path`, as Twilio computes it."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)
    return {"X-Twilio-Signature": signature}


def paced(user: Any) -> float:
    """locust wait_time: until the user's next start on its own schedule (scenario.Schedule)."""
    return user.schedule.next_wait()


def stagger(user: Any) -> None:
    """Give the user its schedule and wait for its first start, a random share of its pacing."""
    user.schedule = scenario.Schedule(user.pacing)
    gevent.sleep(user.schedule.first_wait())


class Resident(HttpUser):
    """Shared webhook plumbing: a signed POST whose answer must be 2xx and valid TwiML."""

    abstract = True
    pacing = scenario.PACING_SECONDS

    def on_start(self) -> None:
        """Start at a random phase of the pacing, not with the rest of locust's batch."""
        stagger(self)

    def post_twiml(self, path: str, form: dict[str, str], name: str) -> str | None:
        """POST a signed webhook; the TwiML, or None after marking the request failed."""
        with self.client.post(
            path,
            data=form,
            headers=signed(path, form),
            name=name,
            timeout=TIMEOUT,
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            if not 200 <= resp.status_code < 300:
                resp.failure(failed(resp))
                return None
            try:
                scenario.twiml_root(resp.text)
            except ValueError as exc:
                resp.failure(str(exc))
                return None
            resp.success()
            return resp.text


class SmsReporter(Resident):
    """A resident texting a report: problem, then the address, then YES; a fresh number each."""

    fixed_count = PLAN["sms_report"].users
    pacing = PLAN["sms_report"].pacing
    wait_time = paced

    def on_start(self) -> None:
        """No conversation yet."""
        super().on_start()
        self.conversation: dict[str, Any] | None = None

    def text(self, body: str) -> str | None:
        """One inbound SMS (fresh MessageSid); the reply's text, or None if it failed."""
        assert self.conversation is not None
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": self.conversation["phone"],
            "To": TO,
            "Body": body,
            "NumMedia": "0",
        }
        self.conversation["turns"] += 1
        xml = self.post_twiml("/twilio/sms", form, "POST /twilio/sms [report]")
        if xml is None:
            return None
        return " ".join(scenario.sms_texts(xml))

    def finish(self, case: str | None) -> None:
        """Record the conversation (its case number if its last reply filed one) and end it."""
        assert self.conversation is not None
        entry = dict(
            self.conversation, event="end", channel="sms", case=case, completed=case is not None
        )
        record(entry)
        if case is not None:
            FILED.append((entry["phone"], case))
        self.conversation = None

    @task
    def next_message(self) -> None:
        """Send the conversation's next text: the problem, the address, or YES."""
        if self.conversation is None:
            street = random.choice(STREETS)
            self.conversation = {
                "phone": fresh_phone(),
                "place": f"{random.randint(1, 1999)} {street}",
                "turns": 0,
                "said_yes": False,
            }
            record({"event": "start", "channel": "sms", "phone": self.conversation["phone"]})
            reply = self.text(random.choice(PROBLEMS))
        else:
            last = self.conversation.get("last", "")
            if "Reply YES" in last or "reply YES" in last:
                self.conversation["said_yes"] = True
                reply = self.text("yes")
            elif "skip" in last.lower() or "where" in last.lower():
                reply = self.text(self.conversation["place"])
            else:
                reply = self.text("skip")
        if reply is None:
            self.finish(None)
            return
        self.conversation["last"] = reply
        case = scenario.filed_case_number(reply)
        if case is not None or self.conversation["turns"] >= MAX_TURNS:
            self.finish(case)

    def on_stop(self) -> None:
        """A conversation cut off by the end of the run is recorded as incomplete."""
        if self.conversation is not None:
            self.finish(None)


class Caller(Resident):
    """A resident calling: report by speech, YES, no text, goodbye, then the status callback."""

    fixed_count = PLAN["voice_call"].users
    pacing = PLAN["voice_call"].pacing
    wait_time = paced

    def on_start(self) -> None:
        """No call yet."""
        super().on_start()
        self.call: dict[str, Any] | None = None

    def form(self, **fields: str) -> dict[str, str]:
        """The fields Twilio posts on every voice webhook of this call."""
        assert self.call is not None
        return {
            "CallSid": self.call["call_sid"],
            "AccountSid": ACCOUNT_SID,
            "From": self.call["phone"],
            "To": TO,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **fields,
        }

    def hang_up(self) -> None:
        """Twilio's status callback, then record the call."""
        assert self.call is not None
        form = self.form(CallStatus="completed", CallDuration=str(self.call["turns"] * 8))
        self.post_twiml("/twilio/voice/status", form, "POST /twilio/voice/status")
        completed = self.call["case"] is not None
        record(dict(self.call, event="end", channel="voice", completed=completed))
        if self.call["case"] is not None:
            FILED.append((self.call["phone"], self.call["case"]))
        self.call = None

    @task
    def next_turn(self) -> None:
        """Answer a new call, or say the next thing into the current one."""
        if self.call is None:
            self.call = {
                "call_sid": "CA" + uuid.uuid4().hex,
                "phone": fresh_phone(),
                "place": f"{random.randint(1, 1999)} {random.choice(STREETS)}",
                "turns": 0,
                "case": None,
                "said_yes": False,
            }
            record({"event": "start", "channel": "voice", "phone": self.call["phone"]})
            xml = self.post_twiml("/twilio/voice", self.form(), "POST /twilio/voice")
        elif self.call.get("action") is None:  # the bot hung up or dialled: the call ends
            self.hang_up()
            return
        else:
            heard = self.call.get("heard", "")
            if self.call["case"] is not None:
                speech = "no thanks that's all"  # no text of the case number, and goodbye
            elif "Say yes to file it" in heard or "say yes" in heard.lower():
                speech = "yes"
                self.call["said_yes"] = True
            elif self.call["turns"] == 0:
                speech = random.choice(SPOKEN).format(place=self.call["place"])
            else:
                speech = self.call["place"]
            self.call["turns"] += 1
            xml = self.post_twiml(
                self.call["action"],
                self.form(SpeechResult=speech, Confidence="0.92"),
                "POST /twilio/voice/gather",
            )
        if xml is None:
            self.hang_up()
            return
        root = scenario.twiml_root(xml)
        gather = root.find("Gather")
        self.call["action"] = gather.get("action") if gather is not None else None
        self.call["heard"] = scenario.spoken(xml)
        if self.call["case"] is None:
            self.call["case"] = scenario.filed_case_number(self.call["heard"])
            if self.call["case"] is not None:  # counted now, even if the run ends mid-call
                record(
                    {
                        "event": "filed",
                        "channel": "voice",
                        "phone": self.call["phone"],
                        "case": self.call["case"],
                        "completed": True,
                    }
                )
        if self.call["turns"] >= MAX_TURNS:
            self.call["action"] = None

    def on_stop(self) -> None:
        """A call cut off by the end of the run is recorded (incomplete unless it was filed)."""
        if self.call is not None:
            completed = self.call["case"] is not None
            record(dict(self.call, event="end", channel="voice", completed=completed))
            self.call = None


class StatusChecker(Resident):
    """A reporter texting "status 311-…" about a case filed earlier in the run."""

    fixed_count = PLAN["sms_status"].users
    pacing = PLAN["sms_status"].pacing
    wait_time = paced

    @task
    def check(self) -> None:
        """Ask for a filed case's status from its reporter's number (an unknown one at first)."""
        phone, number = random.choice(FILED) if FILED else (fresh_phone(), "311-999999")
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": phone,
            "To": TO,
            "Body": f"status {number}",
            "NumMedia": "0",
        }
        with self.client.post(
            "/twilio/sms",
            data=form,
            headers=signed("/twilio/sms", form),
            name="POST /twilio/sms [status]",
            timeout=TIMEOUT,
            catch_response=True,
        ) as resp:
            if not 200 <= resp.status_code < 300:
                resp.failure(failed(resp))
                return
            try:
                reply = " ".join(scenario.sms_texts(resp.text))
            except ValueError as exc:
                resp.failure(str(exc))
                return
            if number not in reply:
                resp.failure(f"status reply does not name {number}")
                return
            resp.success()


class Web(HttpUser):
    """Console staff and Open311 readers: the web pool, each from its own address."""

    abstract = True
    host = WEB_HOST
    pacing = scenario.PACING_SECONDS

    def on_start(self) -> None:
        """Come from a distinct address (the app trusts one proxy hop in this run), at a
        random phase of the pacing."""
        self.client.headers["X-Forwarded-For"] = client_address()
        stagger(self)

    def get_ok(self, path: str, name: str, wanted: str = "") -> str | None:
        """GET a page; 2xx (no redirect to sign-in) containing `wanted`, else a failure."""
        with self.client.get(
            path, name=name, timeout=TIMEOUT, allow_redirects=False, catch_response=True
        ) as resp:
            if not 200 <= resp.status_code < 300:
                resp.failure(failed(resp))
                return None
            if wanted and wanted not in resp.text:
                resp.failure(f"page lacks {wanted!r}")
                return None
            resp.success()
            return resp.text


class ConsoleStaff(Web):
    """A supervisor signed in to the console: the case list, then a case page, in turn."""

    fixed_count = PLAN["console"].users
    pacing = PLAN["console"].pacing
    wait_time = paced
    CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

    def on_start(self) -> None:
        """Sign in once (GET the form for its CSRF token, POST the credentials)."""
        super().on_start()
        self.numbers: list[str] = []
        page = self.get_ok("/console/login", "GET /console/login", "csrf_token") or ""
        found = self.CSRF.search(page)
        form = {
            "username": os.environ.get("CIVICLINE_LOAD_STAFF_USER", ""),
            "password": os.environ.get("CIVICLINE_LOAD_STAFF_PASSWORD", ""),
            "csrf_token": found.group(1) if found else "",
        }
        with self.client.post(
            "/console/login",
            data=form,
            name="POST /console/login",
            timeout=TIMEOUT,
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            if resp.status_code == 302 and "/console/login" not in resp.headers.get("Location", ""):
                resp.success()
            else:
                resp.failure(f"sign-in failed: {failed(resp)}")

    @task
    def browse(self) -> None:
        """The case list; next time, one of the cases it listed (or one filed in this run)."""
        known = self.numbers or [number for _, number in FILED[-50:]]
        if known and random.random() < 0.5:
            number = random.choice(known)
            self.get_ok(f"/console/cases/{number}", "GET /console/cases/[number]", number)
            return
        page = self.get_ok("/console/cases", "GET /console/cases", "Cases")
        if page:
            self.numbers = sorted(set(scenario.CASE_NUMBER.findall(page)))


class Open311Reader(Web):
    """A public app or work-order system reading the Open311 API: lists, services, one request."""

    fixed_count = PLAN["open311"].users
    pacing = PLAN["open311"].pacing
    wait_time = paced

    def on_start(self) -> None:
        """Start with the request list."""
        super().on_start()
        self.step = 0
        self.ids: list[str] = []

    def get_json(self, path: str, name: str) -> Any:
        """GET JSON that must be a list (Open311 answers lists, even for one request)."""
        with self.client.get(path, name=name, timeout=TIMEOUT, catch_response=True) as resp:
            if not 200 <= resp.status_code < 300:
                resp.failure(failed(resp))
                return None
            try:
                body = resp.json()
            except ValueError:
                resp.failure("not JSON")
                return None
            if not isinstance(body, list):
                resp.failure("not a JSON list")
                return None
            resp.success()
            return body

    @task
    def read(self) -> None:
        """requests.json, services.json and one request, in turn."""
        self.step += 1
        if self.step % 3 == 2:
            self.get_json("/open311/v2/services.json", "GET /open311/v2/services.json")
            return
        known = self.ids or [number for _, number in FILED[-50:]]
        if self.step % 3 == 0 and known:
            number = random.choice(known)
            self.get_json(f"/open311/v2/requests/{number}.json", "GET /open311/v2/requests/[id]")
            return
        found = self.get_json("/open311/v2/requests.json", "GET /open311/v2/requests.json")
        if found:
            self.ids = [r["service_request_id"] for r in found[:50] if "service_request_id" in r]
