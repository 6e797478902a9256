"""Conversations: filtered list with full-text search, transcripts, flagging misclassified turns."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.catalog import CONVERSATION_INTENTS
from cases import photos
from cases.admin_models import User
from cases.media_models import Photo
from cases.models import Case, Conversation, OutboundMessage, Turn
from cases.review import ConversationFilters, flag_turn, list_conversations, turn_summaries
from console.blueprint import bp, login_required, runtime
from console.filters import choice, day, flag, page
from console.languages import supported


def intents() -> list[str]:
    """Every intent a turn can be labelled with."""
    rt = runtime()
    return sorted({*rt.catalog.by_intent, *rt.kb.by_intent, *CONVERSATION_INTENTS})


@bp.get("/conversations")
@login_required()
def conversations() -> Any:
    """The conversation list."""
    filters = ConversationFilters(
        channel=request.args.get("channel", ""),
        language=choice("language", supported()),
        start=day("from"),
        end=day("to", end=True),
        intent=request.args.get("intent", ""),
        handed_off=flag("handed_off"),
        low_confidence=flag("low_confidence"),
        has_case=flag("has_case"),
        search=request.args.get("q", "").strip()[:200],
        page=page(),
    )
    with runtime().Session() as db_session:
        rows, more = list_conversations(db_session=db_session, filters=filters)
        summaries = turn_summaries(db_session=db_session, ids=[c.id for c in rows])
    return render_template(
        "conversations.html",
        rows=rows,
        more=more,
        summaries=summaries,
        filters=filters,
        intents=intents(),
    )


@bp.get("/conversations/<int:conversation_id>")
@login_required()
def conversation(conversation_id: int) -> Any:
    """One transcript: each turn with intent, confidence, ASR confidence and the bot's reply."""
    with runtime().Session() as db_session:
        conv = db_session.get(Conversation, conversation_id)
        if conv is None:
            abort(404)
        turns = list(
            db_session.scalars(
                select(Turn).where(Turn.conversation_id == conv.id).order_by(Turn.id)
            )
        )
        staff = list(
            db_session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.conversation_id == conv.id,
                    OutboundMessage.reason == "staff_reply",
                )
                .order_by(OutboundMessage.id)
            )
        )
        cases = list(db_session.scalars(select(Case).where(Case.conversation_id == conv.id)))
        taken_by = db_session.get(User, conv.handoff_taken_by) if conv.handoff_taken_by else None
        conv_photos = photos.of_conversation(db_session, conv.id)
        photo_cases = {p.case_id for p in conv_photos if p.case_id}
        case_numbers = {
            case_id: number
            for case_id, number in db_session.execute(
                select(Case.id, Case.service_request_id).where(Case.id.in_(photo_cases))
            )
        }
    timeline = sorted(
        [("turn", t.received_at, t) for t in turns] + [("staff", m.created_at, m) for m in staff],
        key=lambda x: x[1],
    )
    return render_template(
        "conversation.html",
        conv=conv,
        timeline=timeline,
        cases=cases,
        intents=intents(),
        taken_by=taken_by,
        photos=conv_photos,
        photos_by_message=_by_message(conv_photos),
        case_numbers=case_numbers,
    )


def _by_message(found: list[Photo]) -> dict[str, list[Photo]]:
    """The photos each texted message brought (shown in the transcript at that message)."""
    by_message: dict[str, list[Photo]] = {}
    for photo in found:
        if photo.message_sid:
            by_message.setdefault(photo.message_sid, []).append(photo)
    return by_message


@bp.post("/turns/<int:turn_id>/flag")
@login_required()
def flag_misclassified(turn_id: int) -> Any:
    """Flag a turn as misclassified, with the intent it should have had."""
    intent = request.form.get("intent", "")
    if intent not in intents():
        abort(400, "pick an intent from the list")
    with runtime().Session() as db_session, db_session.begin():
        turn = db_session.get(Turn, turn_id)
        if turn is None:
            abort(404)
        flag_turn(db_session=db_session, turn=turn, intent=intent, user=g.user)
        conversation_id = turn.conversation_id
    flash(f"Flagged: this message should be \u201c{intent}\u201d. Admins will review it.")
    return redirect(url_for("console.conversation", conversation_id=conversation_id))
