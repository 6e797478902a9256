"""Privacy by construction: one redaction before storage, and a public view that leaks nothing.

The scan files 200 cases by SMS, voice and Open311 with phone numbers, e-mail addresses, card
numbers and names planted in them, then reads every public surface and looks for each one.
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from cases.api_keys import create_api_key
from cases.models import Case, Conversation, Turn
from tests.conftest import PUBLIC_URL
from tests.integration.conftest import sign

pytestmark = pytest.mark.rasa
_sids = itertools.count(1)

PHONES = ["555-867-5309", "(555) 234-9876", "+1 555 345 6789"]
EMAILS = ["ana.ruiz@example.com", "bob.stone+311@mail.example.org"]
CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444"]
NAMES = ["Ana Ruiz", "Bob Stone", "Carmen Diaz"]
SPOKEN_CARD = "four one one one one one one one one one one one one one one one"
SPOKEN_PHONE = "five five five eight six seven five three zero nine"


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def voice(client, caller: str, path: str, **fields: str) -> ET.Element:
    form = {
        "CallSid": fields.pop("sid"),
        "AccountSid": "AC" + "0" * 32,
        "From": caller,
        "To": "+15550100311",
        "CallStatus": "in-progress",
        **fields,
    }
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + path, form)}
    resp = client.post(path, data=form, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return ET.fromstring(resp.get_data(as_text=True))


def next_answer(reply: str, house: str = "120") -> str:
    """What a cooperative resident says next: the number, the first choice, or yes."""
    if re.search(r"house number", reply, re.I):
        return house
    if re.search(r"yes to file it", reply, re.I):
        return "yes"
    return "1" if re.search(r"Reply 1\b|press 1|say 1", reply, re.I) else "yes"


def file_by_sms(sms, first: str, extra: str, sender: str) -> str:
    """A report by text, with `extra` added at the read-back ("also ..."): its case number."""
    reply = sms(first, sender=sender).text
    added = False
    for _ in range(8):
        if match := re.search(r"311-\d{6,}", reply):
            return match.group(0)
        if "Reply YES to file it" in reply and not added:
            reply, added = sms(f"also {extra}", sender=sender).text, True
            continue
        house = re.search(r"\d+", first)
        reply = sms(next_answer(reply, house.group(0) if house else "120"), sender=sender).text
    raise AssertionError(f"no case filed for {first!r}: {reply}")


def file_by_call(client, first: str, sender: str) -> None:
    """A report by phone, adding a spoken card and phone number at the read-back."""
    sid = f"CA{next(_sids):032x}"
    root = voice(client, sender, "/twilio/voice", sid=sid)
    said, added = first, False
    for t in range(1, 10):
        root = voice(
            client,
            sender,
            f"/twilio/voice/gather?t={t}",
            sid=sid,
            SpeechResult=said,
            Confidence="0.93",
        )
        heard = " ".join(s.text or "" for s in root.iter("Say"))
        if "case number is" in heard:
            return
        if "Say yes to file it" in heard and not added:
            said, added = f"also my card is {SPOKEN_CARD} and call me at {SPOKEN_PHONE}", True
        else:
            said = next_answer(heard, re.search(r"\d+", first).group(0))
    raise AssertionError(f"no case filed by phone for {first!r}: {heard}")


def test_a_card_number_said_on_a_call_is_redacted(app, client):
    sid = "CA" + "7" * 32
    voice(client, "+15550109001", "/twilio/voice", sid=sid)
    voice(
        client,
        "+15550109001",
        "/twilio/voice/gather?t=1",
        sid=sid,
        SpeechResult=f"my card number is {SPOKEN_CARD}",
        Confidence="0.9",
    )
    with app.extensions["civicline"].Session() as s:
        [turn] = s.scalars(select(Turn)).all()
        state = json.dumps(s.scalars(select(Conversation)).one().state)
    assert "4111111111111111" not in digits(turn.text) and "[card number removed]" in turn.text
    assert "4111" not in state and "four one one one" not in turn.text


def test_phones_emails_and_cards_never_reach_the_store_or_the_reply(app, sms):
    sender = "+15550109002"
    reply = sms("theres a pothole at 120 Elm St", sender=sender).text
    reply = sms(f"also call {PHONES[0]} or {EMAILS[0]}, card {CARDS[0]}", sender=sender).text
    assert PHONES[0] not in reply and EMAILS[0] not in reply and "4111" not in reply
    with app.extensions["civicline"].Session() as s:
        stored = " ".join(t.text + " " + t.reply for t in s.scalars(select(Turn)))
        stored += json.dumps(s.scalars(select(Conversation)).one().state)
    for planted in (PHONES[0], EMAILS[0], CARDS[0]):
        assert planted not in stored
    assert "8675309" not in digits(stored)


@pytest.fixture
def planted(app, client, sms):
    """200 cases with personal data planted: 90 by SMS, 30 by voice, 80 through Open311."""
    runtime = app.extensions["civicline"]
    reports = [
        ("no heat in my apartment at {n} Linden St", "HI-NOHEAT"),
        ("loud music all night at {n} Court St", "PD-NOISE"),
        ("theres a pothole in front of {n} Elm St", "PW-POTHOLE"),
    ]
    for i in range(90):
        first, _ = reports[i % 3]
        extra = (
            f"my name is {NAMES[i % 3]}, call {PHONES[i % 3]} or {EMAILS[i % 2]}, "
            f"card {CARDS[i % 2]}"
        )
        file_by_sms(sms, first.format(n=120 + i), extra, sender=f"+1555011{i:04d}")
    for i in range(30):
        first, _ = reports[i % 2]
        file_by_call(client, first.format(n=210 + i), sender=f"+1555012{i:04d}")
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="partner")
    for i in range(80):
        code, extra = (
            ("PD-NOISE", {"attribute[noise_type]": "music_party"})
            if i % 2
            else ("PW-POTHOLE", {"attribute[size]": "large"})
        )
        form = {
            "api_key": key,
            "service_code": code,
            "address_string": f"{300 + i} Maple Ave",
            "description": f"{NAMES[i % 3]} here, {PHONES[i % 3]}, {EMAILS[i % 2]}, "
            f"card {CARDS[i % 2]}",
            "first_name": NAMES[i % 3].split()[0],
            "last_name": NAMES[i % 3].split()[1],
            "email": EMAILS[i % 2],
            "phone": PHONES[i % 3],
            **extra,
        }
        assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    with runtime.Session() as s:
        cases = list(s.scalars(select(Case)))
    return cases


def leaks(text: str, sensitive_addresses: list[str]) -> list[str]:
    """Every planted item, or a sensitive house address, found in one public text."""
    found = [p for p in EMAILS + NAMES if p.lower() in text.lower()]
    found += [p for p in PHONES + CARDS if p in text or digits(p)[-10:] in digits(text)]
    found += [a for a in sensitive_addresses if a in text]
    found += [p for p in ("8675309", "4111111111111111") if p in digits(text)]
    found += [f"+1555011{i:04d}" for i in range(90) if f"555011{i:04d}" in digits(text)]
    return found


def test_no_planted_personal_data_on_any_public_surface(planted, client, sms):
    assert len(planted) == 200
    sensitive = [
        c.address
        for c in planted
        if c.service_code in {"HI-NOHEAT", "PD-NOISE"} and c.address and c.address[0].isdigit()
    ]
    assert len(sensitive) >= 100
    bodies = []
    for fmt in ("json", "xml"):
        resp = client.get(f"/open311/v2/requests.{fmt}")
        assert resp.status_code == 200
        bodies.append(resp.get_data(as_text=True))
    listed = json.loads(bodies[0])
    assert len(listed) == 200
    assert {r["address"].split(" block of ")[0] for r in listed if r["service_code"] == "HI-NOHEAT"}
    for case in planted:
        resp = client.get(f"/open311/v2/requests/{case.service_request_id}.json")
        bodies.append(resp.get_data(as_text=True))
    for case in planted:  # each case's public page (the link in the reporter's texts)
        for lang in ("en", "es"):
            resp = client.get(f"/c/{case.service_request_id}-{case.public_token}?lang={lang}")
            assert resp.status_code == 200
            bodies.append(resp.get_data(as_text=True))
    for fmt in ("csv", "json"):  # the open data set: bulk and permanent, block level for all
        resp = client.get(f"/open-data/service_requests.{fmt}")
        assert resp.status_code == 200
        bodies.append(resp.get_data(as_text=True))
        every_house = [c.address for c in planted if c.address and c.address[0].isdigit()]
        assert not [a for a in every_house if a in bodies[-1]]
    for case in planted[::10]:  # status by text from someone else's phone
        bodies.append(sms(f"status {case.service_request_id}", sender="+15550109999").text)
    found = [hit for body in bodies for hit in leaks(body, sensitive)]
    assert found == [], f"{len(found)} planted items published, e.g. {found[:5]}"
    noise = [r for r in listed if r["service_code"] == "PD-NOISE"]
    assert all(" block of " in r["address"] for r in noise)
    assert all(r["description"] in ("", "Noise type: Loud music or party") for r in noise)


def test_public_note_is_published_and_internal_note_is_not(app, client, sms):
    from cases.lifecycle import Change, update_case
    from cases.users import create_user

    number = file_by_sms(sms, "pothole at 14 Elm St", "it is deep", sender="+15550109003")
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="sam", password="x" * 12, role="supervisor")
        case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
        update_case(
            db_session=s,
            case=case,
            change=Change(
                "closed",
                notes="Tenant Ana Ruiz 555-867-5309",
                public_note="Filled on Tuesday.",
                resolution="fixed",
            ),
            actor=staff,
            wording=runtime.bot.wording,
        )
    [body] = json.loads(client.get(f"/open311/v2/requests/{number}.json").get_data(as_text=True))
    assert body["status_notes"] == "Filled on Tuesday."
    assert "Ana" not in json.dumps(body) and "8675309" not in digits(json.dumps(body))


def test_a_control_character_does_not_break_the_xml(app, client):
    runtime = app.extensions["civicline"]
    with runtime.Session() as s, s.begin():
        key = create_api_key(db_session=s, name="partner")
    form = {
        "api_key": key,
        "service_code": "PW-POTHOLE",
        "address_string": "14 Elm St",
        "attribute[size]": "large",
        "description": "deep\x01hole",
    }
    assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    with runtime.Session() as s, s.begin():
        s.scalars(select(Case)).one().status_notes = "done\x01\x0b today"
    ET.fromstring(client.get("/open311/v2/requests.xml").get_data(as_text=True))
