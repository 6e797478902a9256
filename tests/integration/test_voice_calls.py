"""Phone calls through the real Rasa server and database: TwiML verbs, attributes and storage."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from sqlalchemy import select

from app import create_app
from cases.models import Case, Conversation, OutboundMessage, Turn
from tests.conftest import PUBLIC_URL
from tests.integration.conftest import sign

pytestmark = pytest.mark.rasa
CALLER = "+15550100077"
_calls = itertools.count(1)


class Call:
    """One simulated Twilio call: posts signed Voice webhooks and parses the TwiML."""

    def __init__(self, client):
        self.client = client
        self.sid = f"CA{next(_calls):032x}"
        self.next = "/twilio/voice"

    def post(self, path: str, **fields: str) -> ET.Element:
        form = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": CALLER,
            "To": "+15550100311",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **fields,
        }
        resp = self.client.post(
            path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, form)}
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        root = ET.fromstring(resp.get_data(as_text=True))
        gather = root.find("Gather")
        if gather is not None:
            self.next = gather.get("action")
        return root

    def answer(self) -> ET.Element:
        return self.post("/twilio/voice")

    def say(self, speech: str, confidence: str = "0.92") -> ET.Element:
        return self.post(self.next, SpeechResult=speech, Confidence=confidence)

    def press(self, digits: str) -> ET.Element:
        return self.post(self.next, Digits=digits)

    def silence(self) -> ET.Element:
        return self.post(self.next)


def spoken(root: ET.Element) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


@pytest.fixture
def call(client):
    return Call(client)


def stored(app, model):
    with app.extensions["civicline"].Session() as s:
        return list(s.scalars(select(model).order_by(model.id)))


def test_answering_greets_and_gathers_speech_with_hints(call):
    root = call.answer()
    gather = root.find("Gather")
    assert gather is not None and gather.get("input") == "speech dtmf"  # 9 Spanish, 8 text
    assert gather.get("speechTimeout") == "auto" and gather.get("language") == "en-US"
    assert gather.get("action") == "/twilio/voice/gather?t=1"
    assert "pothole" in gather.get("hints") and "elm" in gather.get("hints")
    say = gather.find("Say")
    assert "9 1 1" in say.text and say.get("voice") and say.get("language") == "en-US"


def test_full_call_files_a_case_reads_it_back_and_texts_it(call, app):
    call.answer()
    first = call.say("yeah um there's a pothole in front of four twelve maple avenue")
    assert "Here's your report: Pothole at 412 Maple Avenue" in spoken(first)
    assert first.find("Gather").get("input") == "speech dtmf"  # "press 1 for yes"
    filed = call.say("yes")
    [case] = stored(app, Case)
    digits = " ".join(case.service_request_id.replace("-", ""))  # "3 1 1 0 0 0 ..."
    assert digits.replace(" ", "") in spoken(filed).replace(" ", "").replace(",", "")
    assert case.source == "voice" and case.address == "412 Maple Avenue"
    texted = call.say("yes please")
    assert "texting you the case number" in spoken(texted)
    [sms] = stored(app, OutboundMessage)
    assert sms.to == CALLER and case.service_request_id in sms.body and sms.status == "pending"
    bye = call.say("no that's all thanks")
    assert bye.find("Hangup") is not None


def test_silence_then_unclear_speech_offers_the_keypad(call, app):
    call.answer()
    first = call.silence()
    assert "didn't catch that" in spoken(first) and first.find("Gather") is not None
    second = call.say("mumble", confidence="0.12")
    gather = second.find("Gather")
    assert gather.get("input") == "speech dtmf" and "Press 1" in spoken(second)
    third = call.press("1")
    assert "What problem would you like to report" in spoken(third)
    turns = stored(app, Turn)
    assert [t.asr_confidence for t in turns[:2]] == [None, 0.12]
    assert turns[0].intent is None and turns[1].intent is None  # not sent to the NLU


def test_keypad_zero_dials_the_operator(client, settings, rasa_server):
    app = create_app(
        replace(
            settings,
            operator_number="+15550100999",
            rasa_url=rasa_server.url,
            rasa_token=rasa_server.token,
        )
    )
    call = Call(app.test_client())
    call.answer()
    call.silence()
    call.silence()
    root = call.press("0")
    dial = root.find("Dial")
    assert dial is not None and dial.text == "+15550100999"
    assert dial.get("action") == "/twilio/voice/dial-status"
    [conv] = stored(app, Conversation)
    assert conv.handoff_status == "waiting"
    after = call.post("/twilio/voice/dial-status", DialCallStatus="no-answer")
    assert "no one is available" in spoken(after) and after.find("Hangup") is not None


def test_saying_operator_hands_off(call, app):
    call.answer()
    root = call.say("operator")
    assert "connect you" in spoken(root)
    assert stored(app, Conversation)[0].handoff_status == "waiting"


def test_emergency_says_911_and_hangs_up(call, app):
    call.answer()
    root = call.say("there's smoke pouring out of the house next door")
    assert "dial 9 1 1" in spoken(root) and root.find("Hangup") is not None
    assert stored(app, Case) == []


def test_knowledge_base_answer_is_spoken_and_call_continues(call, app):
    call.answer()
    root = call.say("um when do they pick up the trash on my street")
    assert "http" not in spoken(root) and "anything else" in spoken(root)
    assert root.find("Gather") is not None and stored(app, Case) == []


def test_status_by_spoken_case_number(call, app, sms):
    sms("streetlight out at 10 pine st")
    number = re.search(r"311-\d{6}", sms("yes").text).group(0)
    call.answer()
    words = " ".join(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][int(d)]
        for d in number.replace("-", "")
    )
    root = call.say(f"whats the status of case {words}")
    assert "is open" in spoken(root) and "Streetlight" in spoken(root)


def test_hang_up_mid_report_keeps_transcript_and_files_nothing(call, app):
    call.answer()
    call.say("a big tree branch fell down")
    call.post("/twilio/voice/status", CallStatus="completed", CallDuration="42")
    [conv] = stored(app, Conversation)
    assert conv.status == "closed" and conv.end_reason == "hung_up_mid_report"
    assert conv.duration_seconds == 42
    assert [t.text for t in stored(app, Turn)] == ["a big tree branch fell down"]
    assert stored(app, Case) == []


def test_completed_call_is_closed_with_its_outcome(call, app):
    call.answer()
    call.say("when is city hall open")
    call.post("/twilio/voice/status", CallStatus="completed", CallDuration="30")
    [conv] = stored(app, Conversation)
    assert (conv.end_reason, conv.duration_seconds) == ("completed", 30)


def test_retried_gather_replays_and_files_once(call, app):
    call.answer()
    call.say("graffiti on the library wall at 300 main street")
    turn_url = call.next
    first = call.say("yes")
    again = call.post(turn_url, SpeechResult="yes", Confidence="0.92")
    assert ET.tostring(first) == ET.tostring(again)
    assert len(stored(app, Case)) == 1


def test_voice_requires_a_valid_signature(client):
    resp = client.post("/twilio/voice", data={"CallSid": "CA1", "From": CALLER})
    assert resp.status_code == 403
