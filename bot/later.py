"""Answer, by text, the messages that arrived while the NLU was down or the webhook failed.

One message at a time: claim it (cases/deferred.py), run it through the engine as a new turn
with its own message id (so a second try replays the same reply instead of filing twice),
then queue the answer and mark the message done in one transaction guarded by the claim
token, so the resident gets it once however many workers run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue import Turn
from bot.engine import Engine
from cases import deferred
from cases.models import DeferredMessage, utcnow
from cases.outbox import enqueue_sms

log = logging.getLogger("civicline.later")
QUOTE_CHARS = 60
STILL_DOWN = {"nlu_unavailable"}


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def answer_one(
    *,
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime] = utcnow,
) -> bool:
    """Answer the next due message, if any; returns whether there was one to work on."""
    with sessions() as db_session, db_session.begin():
        claim = deferred.claim_next(db_session=db_session, now=clock())
        if claim is None:
            return False
        row_id, token = claim
        row = db_session.get(DeferredMessage, row_id)
        assert row is not None
        sender, channel, text, message_id = row.sender, row.channel, row.text, row.message_id
        later_id = f"{message_id}:later"
        stale = deferred.answered_since(
            db_session=db_session,
            sender=sender,
            channel=channel,
            since=row.received_at,
            own_message_id=later_id,
        )
    if stale:  # the resident has talked to the bot since: an old answer would only confuse
        with sessions() as db_session, db_session.begin():
            deferred.finish(
                db_session=db_session,
                message_id=row_id,
                token=token,
                status="superseded",
                now=clock(),
            )
        return True
    turn = Turn(channel=channel, sender=sender, text=text, message_id=later_id)
    with sessions() as db_session:
        reply = engine.handle(turn, db_session=db_session)
    with sessions() as db_session, db_session.begin():
        if reply.kind in STILL_DOWN:
            deferred.release(
                db_session=db_session,
                message_id=row_id,
                token=token,
                error="NLU unavailable",
                now=clock(),
            )
            return True
        if not deferred.finish(
            db_session=db_session, message_id=row_id, token=token, status="done", now=clock()
        ):
            log.info("deferred message %s was taken over by another worker", row_id)
            return True
        if reply.text:
            body = engine.wording.text(
                "LATER_ANSWER", "sms", reply.language, said=_quoted(text), answer=reply.text
            )
            enqueue_sms(
                db_session=db_session,
                to=sender,
                body=body[:1200],
                reason="later_answer",
                now=clock(),
            )
    return True


def answer_due(
    *,
    engine: Engine,
    sessions: sessionmaker[Session],
    nlu_ready: Callable[[], bool],
    clock: Callable[[], datetime] = utcnow,
    limit: int = 20,
) -> int:
    """Answer up to `limit` due messages if the NLU is up; returns how many were handled.

    The NLU is probed once per pass: a turn that finds it down again is released to retry.
    """
    handled = 0
    if not nlu_ready():
        return 0
    while handled < limit:
        if not answer_one(engine=engine, sessions=sessions, clock=clock):
            break
        handled += 1
    return handled
