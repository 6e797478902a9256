"""When a webhook fails anyway: keep the message, and still answer Twilio with valid TwiML.

Twilio shows a resident nothing when a webhook answers 500, and retries only some failures;
so every unexpected error in a webhook becomes a short apology with the city's number, and the
inbound message is kept (cases/deferred.py) to be answered by text once the fault is gone.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from bot.spoken import redact_said
from cases.deferred import defer
from cases.models import utcnow

log = logging.getLogger("civicline.webhooks")


def _keep(channel: str) -> None:
    """Store the inbound message for a later answer; a broken store is only logged."""
    form = request.form
    sender = form.get("From", "").strip()
    message_id = form.get("MessageSid") or form.get("CallSid") or ""
    if channel == "voice" and form.get("CallSid"):
        message_id = f"{form['CallSid']}:{request.args.get('t', '0')}"
    if not sender or not message_id:
        return
    said = form.get("Body", "") if channel == "sms" else form.get("SpeechResult", "")
    try:
        runtime = current_app.extensions["civicline"]
        with runtime.Session() as db_session, db_session.begin():
            defer(
                db_session=db_session,
                channel=channel,
                sender=sender,
                message_id=message_id,
                text=redact_said(said, voice=channel == "voice")[:1600],
                reason="error",
                now=utcnow(),
            )
    except Exception:
        log.exception("could not keep failed %s message %s", channel, message_id)


def _language(runtime: object, channel: str) -> str:
    """The apology's language, from the words alone (the store may be what failed)."""
    said = request.form.get("Body" if channel == "sms" else "SpeechResult", "")
    try:
        return str(runtime.bot.switching.languages.first_turn(said, "en"))  # type: ignore[attr-defined]
    except Exception:  # never let the apology fail too
        return "en"


def register(bp: Blueprint, channel: str) -> None:
    """Answer any unexpected error in this blueprint's webhooks with TwiML, keeping the message."""

    @bp.errorhandler(Exception)
    def failed(exc: Exception) -> Response | HTTPException:
        if isinstance(exc, HTTPException):
            return exc  # a bad signature or a malformed request: Twilio should see it
        log.exception("%s webhook %s failed", channel, request.path)
        _keep(channel)
        runtime = current_app.extensions["civicline"]
        language = _language(runtime, channel)
        text = runtime.bot.wording.text("WEBHOOK_ERROR", channel, language)
        if channel == "sms":
            sms = MessagingResponse()
            sms.message(text)
            return Response(str(sms), mimetype="application/xml")
        settings = runtime.settings
        call = VoiceResponse()
        spoken = runtime.bot.wording.voice_language(language) if language != "en" else None
        call.say(
            text,
            voice=settings.voice_for(language),
            language=spoken or settings.voice_language,
        )
        call.hangup()
        return Response(str(call), mimetype="application/xml")
