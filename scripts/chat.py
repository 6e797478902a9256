"""`make chat`: text the running bot from a terminal, through the real signed Twilio webhook."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
import xml.etree.ElementTree as ET

import requests
from twilio.request_validator import RequestValidator

from scripts.devsecrets import load_or_create
from settings import Settings


def send(local_base: str, public_base: str, token: str, sender: str, body: str) -> list[str]:
    """POST one signed inbound SMS and return the reply texts from the TwiML."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "From": sender,
        "To": "+15550100311",
        "Body": body,
        "NumMedia": "0",
    }
    path = "/twilio/sms"
    signature = RequestValidator(token).compute_signature(public_base + path, form)
    resp = requests.post(
        local_base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=20
    )
    resp.raise_for_status()
    return [m.text or "" for m in ET.fromstring(resp.text).iter("Message")]


def main() -> int:
    """Read lines, send them, print replies."""
    os.environ.update(load_or_create())
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--from", dest="sender", default="+15550100123", help="your fake phone number"
    )
    parser.add_argument(
        "--url", default=f"http://127.0.0.1:{settings.port}", help="where the app listens"
    )
    args = parser.parse_args()
    try:
        requests.get(args.url + "/healthz", timeout=3)
    except requests.RequestException:
        print(
            f"The bot is not running at {args.url}. Start it with `make run` in another terminal.",
            file=sys.stderr,
        )
        return 1
    print(f"Texting {settings.city_name} 311 as {args.sender}. Type a message; Ctrl-D to quit.")
    while True:
        try:
            body = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not body:
            continue
        try:
            for text in send(
                args.url, settings.public_url, settings.twilio_auth_token or "", args.sender, body
            ):
                print(f"311> {text}")
        except requests.RequestException as exc:
            print(f"(webhook error: {exc})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
