"""POST /twilio/sms: one inbound text message in, one TwiML reply out."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from bot.dialogue import Media
from bot.engine import Turn
from webhooks.failures import register
from webhooks.signature import twilio_signed

bp = Blueprint("sms", __name__)
register(bp, "sms")
MAX_MEDIA = 10  # Twilio delivers at most 10 attachments per message


def media(form: Mapping[str, str]) -> tuple[Media, ...]:
    """Every attachment of an MMS: NumMedia, then each MediaUrlN and MediaContentTypeN."""
    try:
        count = min(max(int(form.get("NumMedia", "0") or 0), 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for n in range(count):
        url = form.get(f"MediaUrl{n}", "").strip()
        if url:
            found.append(Media(url, form.get(f"MediaContentType{n}", "").strip()))
    return tuple(found)


def twiml(response: MessagingResponse) -> Response:
    """A TwiML HTTP response."""
    return Response(str(response), mimetype="application/xml")


@bp.post("/twilio/sms")
@twilio_signed
def inbound_sms() -> Response:
    """Handle an inbound SMS and answer with TwiML."""
    form = request.form
    sender = form.get("From", "").strip()
    message_id = form.get("MessageSid") or request.headers.get("I-Twilio-Idempotency-Token")
    if not sender or not message_id:
        abort(400, "From and MessageSid are required")
    runtime = current_app.extensions["civicline"]
    turn = Turn(
        channel="sms",
        sender=sender,
        text=form.get("Body", ""),
        message_id=message_id,
        media=media(form),
    )
    with runtime.Session() as db_session:
        reply = runtime.bot.handle(turn, db_session=db_session)
    response = MessagingResponse()
    if reply.text:
        response.message(reply.text)
    return twiml(response)
