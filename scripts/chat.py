"""`make chat`: talk to the running bot from a terminal, through the real signed Twilio webhooks.

Texting is the default; `--voice` plays a phone call (type what the caller says; an empty line
is silence; `#123` presses keys 1 2 3; Ctrl-D hangs up) and shows what would be spoken.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
import xml.etree.ElementTree as ET

import requests
from twilio.request_validator import RequestValidator

from scripts.devsecrets import load_or_create
from settings import Settings

TO = "+15550100311"


def post(local_base: str, public_base: str, token: str, path: str, form: dict[str, str]) -> str:
    """POST a form signed as Twilio would sign it; returns the TwiML."""
    signature = RequestValidator(token).compute_signature(public_base + path, form)
    resp = requests.post(
        local_base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=20
    )
    resp.raise_for_status()
    return resp.text


def send(local_base: str, public_base: str, token: str, sender: str, body: str) -> list[str]:
    """POST one signed inbound SMS and return the reply texts from the TwiML."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "From": sender,
        "To": TO,
        "Body": body,
        "NumMedia": "0",
    }
    xml = post(local_base, public_base, token, "/twilio/sms", form)
    return [m.text or "" for m in ET.fromstring(xml).iter("Message")]


def describe(xml: str) -> tuple[list[str], str | None]:
    """What the caller hears (lines) and where the next answer goes (None: call over)."""
    root = ET.fromstring(xml)
    lines = [f"311 says> {say.text}" for say in root.iter("Say")]
    gather = root.find("Gather")
    if root.find("Dial") is not None:
        lines.append(f"[dialling the call centre: {root.find('Dial').text}]")
    if root.find("Hangup") is not None:
        lines.append("[the bot hangs up]")
    if gather is not None:
        lines.append(f"[listening for {gather.get('input').replace(' ', ' or ')}]")
        return lines, gather.get("action")
    return lines, None


# Chat commands that ask for a language, the way a resident does (by name; keypad 9 on a call).
SWITCH = {"/es": "español", "/en": "english"}


def voice(args: argparse.Namespace, settings: Settings, token: str) -> int:
    """A simulated phone call."""
    call_sid = "CA" + uuid.uuid4().hex
    base = {
        "CallSid": call_sid,
        "From": args.sender,
        "To": TO,
        "Direction": "inbound",
        "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", ""),
    }
    started = time.monotonic()
    lines, action = describe(post(args.url, settings.public_url, token, "/twilio/voice", base))
    print("\n".join(lines))
    pending = ["#9"] if args.es else []  # the welcome offers Spanish on keypad 9
    while action:
        try:
            said = pending.pop() if pending else input("caller> ").strip()
        except (EOFError, KeyboardInterrupt):
            print("\n[caller hangs up]")
            break
        if said in SWITCH:
            said = "#9"  # the keypad cycles through the languages
        form = dict(base)
        if said.startswith("#"):
            form["Digits"] = said[1:]
        elif said:
            form.update(SpeechResult=said, Confidence="0.9")
        lines, action = describe(post(args.url, settings.public_url, token, action, form))
        print("\n".join(lines))
    status = dict(base, CallStatus="completed", CallDuration=str(int(time.monotonic() - started)))
    post(args.url, settings.public_url, token, "/twilio/voice/status", status)
    return 0


def sms(args: argparse.Namespace, settings: Settings, token: str) -> int:
    """A text conversation."""
    print(
        f"Texting {settings.city_name} 311 as {args.sender}. Type a message; /es or /en to "
        "switch language; Ctrl-D to quit."
    )
    pending = ["/es"] if args.es else []
    while True:
        try:
            body = pending.pop() if pending else input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        body = SWITCH.get(body, body)  # asked for by name, as a resident would
        if body:
            for text in send(args.url, settings.public_url, token, args.sender, body):
                print(f"311> {text}")


def main() -> int:
    """Parse arguments, check the bot is up, and chat."""
    os.environ.update(load_or_create())
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="sender", default="+15550100123", help="your phone number")
    parser.add_argument("--url", default=f"http://127.0.0.1:{settings.port}", help="the app")
    parser.add_argument("--voice", action="store_true", help="play a phone call instead of texts")
    parser.add_argument("--es", action="store_true", help="talk in Spanish (asks for it first)")
    args = parser.parse_args()
    try:
        requests.get(args.url + "/healthz", timeout=3)
    except requests.RequestException:
        print(
            f"The bot is not running at {args.url}. Start it with `make run` in another terminal.",
            file=sys.stderr,
        )
        return 1
    try:
        return (voice if args.voice else sms)(args, settings, settings.twilio_auth_token or "")
    except requests.RequestException as exc:
        print(f"webhook error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
