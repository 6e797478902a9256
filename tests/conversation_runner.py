"""Replays scripted conversations (tests/conversations.yml) over real HTTP and judges outcomes.

A conversation is one resident's turns and the outcome expected; the judgement reads the
database the server wrote (cases, turns, handoffs), not the wording of the replies.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Case, Conversation, Turn
from scripts.chat import post

CONVERSATIONS = Path(__file__).with_name("conversations.yml")
# Every language's twins: conversations.<language>.yml (English is conversations.yml).
LANGUAGES = {"en": CONVERSATIONS, "es": Path(__file__).with_name("conversations.es.yml")}
OUTCOMES = {"case", "answer", "emergency", "handoff", "status", "cancelled", "no_case"}
ADVISED_911 = {"emergency", "danger_check"}  # replies that tell the resident to call 911


@dataclass
class Script:
    """One scripted conversation."""

    id: str
    category: str
    channel: str
    turns: list[Any]
    expect: dict[str, Any]
    known_issue: str | None = None
    language: str = "en"

    @property
    def outcome(self) -> str:
        return next(iter(self.expect))


@dataclass
class Result:
    """What happened in one replayed conversation."""

    script: Script
    ok: bool
    why: str = ""
    replies: list[str] = field(default_factory=list)


def load(path: Path = CONVERSATIONS, language: str = "en") -> list[Script]:
    """The scripts, checked: unique ids, one known outcome each, sms or voice."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
    scripts = [Script(**item, language=language) for item in raw]
    ids = Counter(s.id for s in scripts)
    assert not [i for i, n in ids.items() if n > 1], "duplicate conversation ids"
    for s in scripts:
        assert len(s.expect) == 1 and s.outcome in OUTCOMES, s.id
        assert s.channel in {"sms", "voice"} and s.turns, s.id
    return scripts


def replay(base: str, token: str, script: Script, sender: str) -> list[str]:
    """Send the resident's turns through the signed webhooks; returns what the bot said."""
    if script.channel == "sms":
        replies = []
        for turn in script.turns:
            form = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": "AC" + "0" * 32,
                "From": sender,
                "To": "+15550100311",
                "Body": str(turn),
                "NumMedia": "0",
            }
            xml = post(base, base, token, "/twilio/sms", form)
            replies.append(" ".join(m.text or "" for m in ET.fromstring(xml).iter("Message")))
        return replies
    call = {"CallSid": "CA" + uuid.uuid4().hex, "From": sender, "To": "+15550100311"}
    root = ET.fromstring(post(base, base, token, "/twilio/voice", dict(call)))
    replies = [_spoken(root)]
    turns = list(script.turns)
    if script.language != "en":  # the welcome offers the language on keypad 9, as callers use it
        turns.insert(0, {"digits": 9})
    for turn in turns:
        gather = root.find("Gather")
        if gather is None:
            break  # the call is over (hung up or connected to a person)
        form = dict(call, CallStatus="in-progress")
        if isinstance(turn, dict):
            form["Digits"] = str(turn["digits"])
        else:
            form.update(SpeechResult=str(turn), Confidence="0.91")
        root = ET.fromstring(post(base, base, token, str(gather.get("action")), form))
        replies.append(_spoken(root))
    return replies


def _spoken(root: ET.Element) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


def judge(db_session: Session, script: Script, sender: str) -> tuple[bool, str]:
    """Whether the stored outcome for this sender is the one the script expects."""
    convs = db_session.scalars(select(Conversation).where(Conversation.sender == sender)).all()
    ids = [c.id for c in convs]
    turns = db_session.scalars(
        select(Turn).where(Turn.conversation_id.in_(ids)).order_by(Turn.id)
    ).all()
    cases = db_session.scalars(select(Case).where(Case.contact_phone == sender)).all()
    kinds = [t.reply_kind for t in turns]
    want = script.expect[script.outcome]
    outcome = script.outcome
    if outcome != "emergency" and ADVISED_911 & set(kinds):
        return False, f"told to call 911 ({kinds})"
    if outcome == "case":
        if len(cases) != 1:
            return False, f"{len(cases)} cases filed; replies {kinds}"
        case = cases[0]
        got = {"service_code": case.service_code, "address": case.address}
        for key in ("service_code", "address"):
            if key in want and want[key] != got[key]:
                return False, f"{key} {got[key]!r}, wanted {want[key]!r}"
        for code, key in (want.get("attributes") or {}).items():
            if (case.attributes or {}).get(code) != key:
                return False, f"attribute {code}={case.attributes.get(code)!r}, wanted {key!r}"
        return True, ""
    if cases:
        return False, f"a case was filed ({cases[0].service_code} at {cases[0].address})"
    if outcome == "emergency":
        return (bool(ADVISED_911 & set(kinds)), f"no 911 advice; replies {kinds}")
    if outcome == "answer":
        answered = [t.intent for t in turns if t.reply_kind == "answer"]
        return want in answered, f"answers {answered}, replies {kinds}"
    if outcome == "handoff":
        handed = any(c.handoff_status != "none" for c in convs) or "handoff" in kinds
        return handed, f"not handed off; replies {kinds}"
    if outcome == "status":
        digits = re.sub(r"\D", "", str(want))
        said = [
            re.sub(r"\D", "", t.reply)
            for t in turns
            if t.reply_kind in {"status", "status_unknown"}
        ]
        return any(digits in s for s in said), f"no status of {want}; replies {kinds}"
    if outcome == "cancelled":
        return "cancelled" in kinds, f"not cancelled; replies {kinds}"
    return True, ""  # no_case: nothing filed, no false alarm


def rates(results: list[Result]) -> dict[str, tuple[int, int]]:
    """(succeeded, total) per category and overall."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        keys = (r.script.category, f"channel:{r.script.channel}", f"language:{r.script.language}")
        for key in (*keys, "overall"):
            out[key][0] += r.ok
            out[key][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def table(results: list[Result]) -> str:
    """Success by category, as printed at the end of `make test`."""
    lines = ["conversation success by category (tests/conversations*.yml):"]
    for key, (ok, total) in rates(results).items():
        lines.append(f"  {key:<16} {ok:>3}/{total:<3} {100 * ok / total:5.1f}%")
    failed = [r for r in results if not r.ok]
    for r in failed:
        note = f" [known: {r.script.known_issue}]" if r.script.known_issue else ""
        lines.append(f"  FAILED {r.script.id}: {r.why}{note}")
    return "\n".join(lines)


def check_server(base: str) -> None:
    """Fail early and clearly if the server is not up."""
    requests.get(f"{base}/healthz", timeout=10).raise_for_status()
