"""Twilio Voice: answer the call, gather speech (or keys) turn by turn, dial a person, hang up."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.engine import Reply, Turn
from webhooks.failures import register
from webhooks.signature import twilio_signed

bp = Blueprint("voice", __name__)
register(bp, "voice")


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["civicline"]


def twiml(response: VoiceResponse) -> Response:
    """A TwiML HTTP response."""
    return Response(str(response), mimetype="application/xml")


def _hints(language: str) -> str:
    runtime = _runtime()
    wording = runtime.bot.wording
    words: list[str] = ["311", "3 1 1", *wording.phrases("asked_by", language)]
    for other in wording.languages:  # "español" heard on an English call switches it
        words.extend(wording.phrases("asked_by", other)[:2])
    words.extend(wording.phrases("text_me_by", language))
    for service in runtime.catalog.localized(language).services:
        words.append(service.service_name.lower())
        words.extend(k.lower() for k in service.keywords[:4])
    words.extend(" ".join(s.core) for s in runtime.streets.streets)
    unique = list(dict.fromkeys(w for w in words if w and len(w) <= 100))
    return ", ".join(unique[:450])


def speech_hints(language: str = "en") -> str:
    """Twilio <Gather hints>: service names and keywords and the city's street names.

    Computed once per app and language (the catalogue and streets are loaded once per app too).
    """
    extensions = current_app.extensions
    key = f"civicline.speech_hints.{language}"
    if key not in extensions:
        extensions[key] = _hints(language)
    return str(extensions[key])


def _voice_language(language: str) -> str:
    settings = _runtime().settings
    if language == "en":
        return settings.voice_language  # CIVICLINE_VOICE_LANGUAGE may pick another English
    return _runtime().bot.wording.voice_language(language)


def _say(node: VoiceResponse | Gather, text: str, language: str = "en") -> None:
    settings = _runtime().settings
    node.say(text, voice=settings.voice_for(language), language=_voice_language(language))


def _gather(response: VoiceResponse, text: str, turn: int, *, keys: bool, language: str) -> None:
    """Say the text inside a <Gather> that posts the caller's answer as turn `turn`."""
    action = url_for("voice.gather", t=turn)
    gather = Gather(
        input="speech dtmf" if keys else "speech",
        action=action,
        method="POST",
        language=_voice_language(language),
        speech_timeout="auto",
        hints=speech_hints(language),
        action_on_empty_result=True,
        timeout=6,
        finish_on_key="#" if keys else None,
    )
    _say(gather, text, language)
    response.append(gather)
    response.redirect(action, method="POST")  # only reached if Twilio skips the action


def render(reply: Reply, turn: int) -> VoiceResponse:
    """The TwiML for the bot's reply on a call."""
    response = VoiceResponse()
    language = reply.language
    if reply.action == "hangup":
        _say(response, reply.text, language)
        response.hangup()
    elif reply.action == "dial":
        _say(response, reply.text, language)
        operator = _runtime().settings.operator_number
        if operator:
            response.dial(
                operator,
                action=url_for("voice.dial_status", lang=language if language != "en" else None),
                method="POST",
                timeout=25,
            )
        else:
            _say(response, _nobody_answered(language), language)
            response.hangup()
    else:
        keys = reply.keys or reply.action == "keypad"
        _gather(response, reply.text, turn, keys=keys, language=language)
    return response


def _nobody_answered(language: str) -> str:
    return str(_runtime().bot.wording.text("NOBODY_ANSWERED", "voice", language))


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
    language = _runtime().bot.wording.language(request.args.get("lang"))
    if request.form.get("DialCallStatus") != "completed":
        _say(response, _nobody_answered(language), language)
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
