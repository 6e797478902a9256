"""Twilio Voice: answer the call, gather speech (or keys) turn by turn, dial a person, hang up."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.engine import Reply, Turn
from webhooks.failures import register
from webhooks.signature import twilio_signed

bp = Blueprint("voice", __name__)
register(bp, "voice")
NOBODY_ANSWERED = (
    "Sorry, no one is available right now. A staff member will call or text you back at this "
    "number. If this is an emergency, hang up and dial 9 1 1. Goodbye."
)


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"]


def twiml(response: VoiceResponse) -> Response:
    """A TwiML HTTP response."""
    return Response(str(response), mimetype="application/xml")


def _hints() -> str:
    runtime = _runtime()
    words: list[str] = ["three one one", "pothole", "streetlight", "case number", "operator"]
    for service in runtime.catalog.services:
        words.append(service.service_name.lower())
        words.extend(k.lower() for k in service.keywords[:4])
    words.extend(" ".join(s.core) for s in runtime.streets.streets)
    unique = list(dict.fromkeys(w for w in words if w and len(w) <= 100))
    return ", ".join(unique[:450])


def speech_hints() -> str:
    """Twilio <Gather hints>: service names and keywords and the city's street names.

    Computed once per app (the catalogue and street list are loaded once per app too).
    """
    extensions = current_app.extensions
    if "civicline.speech_hints" not in extensions:
        extensions["civicline.speech_hints"] = _hints()
    return str(extensions["civicline.speech_hints"])


def _say(node: VoiceResponse | Gather, text: str) -> None:
    settings = _runtime().settings
    node.say(text, voice=settings.voice, language=settings.voice_language)


def _gather(response: VoiceResponse, text: str, turn: int, *, keys: bool) -> None:
    """Say the text inside a <Gather> that posts the caller's answer as turn `turn`."""
    settings = _runtime().settings
    action = url_for("voice.gather", t=turn)
    gather = Gather(
        input="speech dtmf" if keys else "speech",
        action=action,
        method="POST",
        language=settings.voice_language,
        speech_timeout="auto",
        hints=speech_hints(),
        action_on_empty_result=True,
        timeout=6,
        finish_on_key="#" if keys else None,
    )
    _say(gather, text)
    response.append(gather)
    response.redirect(action, method="POST")  # only reached if Twilio skips the action


def render(reply: Reply, turn: int) -> VoiceResponse:
    """The TwiML for the bot's reply on a call."""
    response = VoiceResponse()
    if reply.action == "hangup":
        _say(response, reply.text)
        response.hangup()
    elif reply.action == "dial":
        _say(response, reply.text)
        operator = _runtime().settings.operator_number
        if operator:
            response.dial(operator, action=url_for("voice.dial_status"), method="POST", timeout=25)
        else:
            _say(response, NOBODY_ANSWERED)
            response.hangup()
    else:
        _gather(response, reply.text, turn, keys=reply.keys or reply.action == "keypad")
    return response


def _required(*names: str) -> dict[str, str]:
    values = {name: request.form.get(name, "").strip() for name in names}
    if not all(values.values()):
        abort(400, f"{', '.join(names)} are required")
    return values


@bp.post("/twilio/voice")
@twilio_signed
def incoming_call() -> Response:
    """A call comes in: greet the caller and listen."""
    form = _required("CallSid", "From")
    runtime = _runtime()
    with runtime.Session() as db_session:
        reply = runtime.bot.start_call(
            call_sid=form["CallSid"], caller=form["From"], db_session=db_session
        )
    return twiml(render(reply, 1))


@bp.post("/twilio/voice/gather")
@twilio_signed
def gather() -> Response:
    """One spoken (or keyed) answer: turn `t` of the call."""
    form = _required("CallSid", "From")
    t = request.args.get("t", type=int)
    if t is None or t < 1:
        abort(400, "t (the turn number) is required")
    confidence = request.form.get("Confidence", type=float)
    turn = Turn(
        channel="voice",
        sender=form["From"],
        text=request.form.get("SpeechResult", ""),
        message_id=f"{form['CallSid']}:{t}",
        asr_confidence=confidence,
        digits=request.form.get("Digits") or None,
        call_sid=form["CallSid"],
    )
    runtime = _runtime()
    with runtime.Session() as db_session:
        reply = runtime.bot.handle(turn, db_session=db_session)
    return twiml(render(reply, t + 1))


@bp.post("/twilio/voice/dial-status")
@twilio_signed
def dial_status() -> Response:
    """After <Dial>: if nobody answered, say so and hang up (the handoff stays queued)."""
    response = VoiceResponse()
    if request.form.get("DialCallStatus") != "completed":
        _say(response, NOBODY_ANSWERED)
    response.hangup()
    return twiml(response)


@bp.post("/twilio/voice/status")
@twilio_signed
def call_status() -> Response:
    """Twilio's call status callback: close the call's conversation with duration and outcome."""
    form = _required("CallSid", "CallStatus")
    duration = request.form.get("CallDuration", type=int)
    runtime = _runtime()
    with runtime.Session() as db_session:
        runtime.bot.end_call(
            call_sid=form["CallSid"],
            status=form["CallStatus"],
            duration=duration,
            db_session=db_session,
        )
    return twiml(VoiceResponse())
