"""The handoff queue: take a conversation, text the resident, close it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for

from cases import handoffs
from cases.admin_models import User
from cases.models import Conversation, utcnow
from console.blueprint import bp, login_required, runtime


@bp.get("/handoffs")
@login_required()
def handoff_queue() -> Any:
    """Waiting conversations, oldest first, with the time waited."""
    with runtime().Session() as db_session:
        rows = handoffs.queue(db_session=db_session)
        names = {u.id: u.display_name for u in db_session.query(User).all()}
    return render_template("handoffs.html", rows=rows, names=names, now=utcnow())


def _act(conversation_id: int, action: str) -> Any:
    try:
        with runtime().Session() as db_session, db_session.begin():
            conv = db_session.get(Conversation, conversation_id)
            if conv is None:
                abort(404)
            if action == "take":
                handoffs.take(db_session=db_session, conversation=conv, user=g.user)
                message = "You have this conversation."
            elif action == "reply":
                handoffs.reply(
                    db_session=db_session,
                    conversation=conv,
                    user=g.user,
                    text=request.form.get("text", ""),
                )
                message = "Reply queued; it is sent within seconds."
            else:
                handoffs.close(db_session=db_session, conversation=conv, user=g.user)
                message = "Handoff closed; the bot answers this resident again."
    except handoffs.HandoffError as exc:
        flash(str(exc), "error")
    else:
        flash(message)
    return redirect(url_for("console.conversation", conversation_id=conversation_id))


@bp.post("/handoffs/<int:conversation_id>/take")
@login_required()
def take(conversation_id: int) -> Any:
    """Assign the conversation to me."""
    return _act(conversation_id, "take")


@bp.post("/handoffs/<int:conversation_id>/reply")
@login_required()
def reply(conversation_id: int) -> Any:
    """Text the resident."""
    return _act(conversation_id, "reply")


@bp.post("/handoffs/<int:conversation_id>/close")
@login_required()
def close(conversation_id: int) -> Any:
    """Close the handoff."""
    return _act(conversation_id, "close")
