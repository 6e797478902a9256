"""Photos texted with a message (MMS): where each one goes, and what the bot says about them.

The rows are written first, in the turn's transaction (cases.photos.receive_mms): a Twilio
retry of the same MessageSid replays the stored reply and stores nothing twice, and every photo
stays on its conversation, where staff see it, whatever becomes of it. Then:
- a report being made takes them (ids in the dialogue state; filing attaches them to the case);
- a photo alone starts a report ("What problem does this photo show?"): the next message is
  read as usual, and a report it starts takes the photos;
- "photo 311-000123" (the reporter's own case), or a photo sent within RECENT_CASE after a case
  was filed in the same conversation, adds to that case;
- otherwise (an emergency, a question, a handoff) they stay on the conversation only.
A report or case takes at most MAX_PER_CASE; files that are not images are refused. Downloading,
cleaning and storing happen later, in the background (outbound/media_worker.py).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.catalog import Catalog
from bot.dialogue import Dialogue, Reply
from bot.reports import ReportFlow
from bot.state import Step
from cases import conversations, photos
from cases.models import Case
from cases.service import find_case_number, get_case

# replies whose words gave nothing to act on: the photo's question is the better answer
NOTHING_SAID = ("reprompt", "greeting", "menu")


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


class PhotoFlow:
    """Decides where a message's photos go, around the engine's usual decision."""

    def __init__(self, *, catalog: Catalog, reports: dict[str, ReportFlow]):
        self.catalog = catalog
        self.reports = reports

    def receive(self, d: Dialogue, db_session: Session) -> None:
        """Store a row per attachment; the images taken are this turn's `d.photos`."""
        rows = photos.receive_mms(
            db_session=db_session,
            conversation_id=conversations.stored(db_session, d.conversation).id,
            message_sid=d.turn.message_id,
            media=[(m.url, m.content_type) for m in d.turn.media],
            now=d.now,
        )
        d.photos = [row.id for row in rows if row.status == "queued"]
        d.refused = sum(row.refusal == "type" for row in rows)

    # ------------------------------------------------------------ a photo alone
    def alone(self, d: Dialogue, db_session: Session) -> Reply:
        """A message with photos and no words."""
        conv, state = d.conversation, d.state
        if conv.handoff_status == "taken":
            return Reply("", "to_staff")  # a person is answering; they see the photos
        if conv.handoff_status == "waiting":
            return d.say("HOLDING", "holding")
        if not d.photos:
            return d.say("PHOTO_ONLY_NOT_IMAGE", "no_input")
        if state.in_report:  # with the report being made; ask its open question again
            kept, notes = self._for_report(d, db_session)
            reply = self.reports[d.language].next(d)
            return Reply(_join(kept, notes, reply.text), reply.kind)
        if state.step != Step.PHOTO_PROBLEM:
            case = photos.recent_case(
                db_session=db_session,
                conversation_id=conversations.stored(db_session, conv).id,
                now=d.now,
            )
            if case is not None:
                return self._to_case(d, case, db_session, d.photos)
            state.reset()
            state.step = Step.PHOTO_PROBLEM
        _, notes = self._for_report(d, db_session)
        return Reply(_join(notes, d.words("PHOTO_ASK_PROBLEM")), "question")

    # ------------------------------------------------------------ photos with words
    def with_words(self, d: Dialogue, db_session: Session, decide: Callable[[], Reply]) -> Reply:
        """A message with photos and words: the words decide as usual, the photos follow."""
        conv, state = d.conversation, d.state
        if conv.handoff_status in ("waiting", "taken"):
            return decide()  # staff see the photos on the conversation
        waiting = list(state.photos) if state.step == Step.PHOTO_PROBLEM else []
        number = find_case_number(d.text)
        if number and d.photos and not state.in_report:  # "photo 311-000123"
            state.reset()
            return self._to_numbered(d, number, waiting + d.photos, db_session)
        if state.in_report:
            kept, notes = self._for_report(d, db_session)
            reply = decide()
            if d.case is not None or not state.in_report:  # filed with them, or cancelled
                return Reply(_join(notes, reply.text), reply.kind, case_number=reply.case_number)
            return Reply(_join(kept, notes, reply.text), reply.kind)
        if not waiting and d.photos and not self._starts_report(d):
            case = photos.recent_case(
                db_session=db_session,
                conversation_id=conversations.stored(db_session, conv).id,
                now=d.now,
            )
            if case is not None:  # "here it is" right after filing
                return self._to_case(d, case, db_session, d.photos)
        reply = decide()
        if state.in_report:  # the words started a report: it takes the photos
            state.photos = waiting
            kept, notes = self._for_report(d, db_session)
            return Reply(_join(kept, notes, reply.text), reply.kind)
        if reply.kind in NOTHING_SAID and (waiting or d.photos):
            state.step, state.photos = Step.PHOTO_PROBLEM, waiting
            _, notes = self._for_report(d, db_session)
            return Reply(_join(notes, d.words("PHOTO_ASK_PROBLEM")), "question")
        return Reply(
            _join(reply.text, d.words("PHOTO_NOT_IMAGE") if d.refused else ""),
            reply.kind,
            case_number=reply.case_number,
        )

    # ------------------------------------------------------------ where they go
    def _starts_report(self, d: Dialogue) -> bool:
        """Whether the words name a service surely enough to begin a new report."""
        intent = d.intent
        return bool(intent in self.catalog.by_intent and d.confident(str(intent)))

    def _for_report(self, d: Dialogue, db_session: Session) -> tuple[str, str]:
        """This message's photos join the report being made (up to the limit).

        Returns the thanks, and the notes about photos not kept.
        """
        room = photos.MAX_PER_CASE - len(d.state.photos)
        kept, over = photos.keep_within(db_session, d.photos, room)
        d.state.photos = [*d.state.photos, *kept]
        thanks = ""
        if len(kept) == 1:
            thanks = d.words("PHOTO_KEPT_ONE")
        elif kept:
            thanks = d.words("PHOTO_KEPT_MANY", count=len(kept))
        return thanks, self._notes(d, over)

    def _notes(self, d: Dialogue, over: int) -> str:
        return _join(
            d.words("PHOTO_LIMIT", max=photos.MAX_PER_CASE, count=over) if over else "",
            d.words("PHOTO_NOT_IMAGE") if d.refused else "",
        )

    def _to_case(self, d: Dialogue, case: Case, db_session: Session, ids: list[int]) -> Reply:
        """Add photos to a filed case, up to its limit."""
        kept, over = photos.add_to_case(db_session=db_session, case=case, photo_ids=ids)
        number = str(case.service_request_id)
        d.case = case  # the turn is linked to the case
        if not kept:
            return d.say("PHOTO_CASE_FULL", "photo_refused", number=number, max=photos.MAX_PER_CASE)
        added = d.words("PHOTO_ADDED_TO_CASE", number=number)
        return Reply(_join(added, self._notes(d, over)), "photo_added", case_number=number)

    def _to_numbered(self, d: Dialogue, number: str, ids: list[int], db_session: Session) -> Reply:
        """'photo 311-000123': only the reporter's own case (the public cannot fill its places)."""
        case = get_case(db_session=db_session, service_request_id=number)
        if case is None or not case.contact_phone or case.contact_phone != d.turn.sender:
            return d.say("PHOTO_CASE_UNKNOWN", "photo_refused", number=number)
        return self._to_case(d, case, db_session, ids)
