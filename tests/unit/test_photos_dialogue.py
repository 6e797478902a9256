"""Photos texted to the bot (MMS), as plain engine calls: where each photo goes, what is said."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.dialogue import Media
from bot.engine import Turn
from cases.media_models import Photo
from cases.models import Case
from cases.models import Turn as TurnRow
from webhooks.sms import media as form_media

PHONE = "+15550100001"
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM{n}/Media/ME{n}"
_ids = itertools.count(1)
_media = itertools.count(1)


def photo(content_type: str = "image/jpeg") -> Media:
    n = next(_media)
    return Media(MEDIA.format(n=n), content_type)


@pytest.fixture
def say(runtime):
    """Send one SMS (words and/or attachments) and return the reply."""

    def _say(text: str = "", *media: Media, sender: str = PHONE, message_id: str | None = None):
        turn = Turn("sms", sender, text, message_id or f"SM{next(_ids):032d}", media=media)
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


def photos(runtime) -> list[Photo]:
    with runtime.Session() as s:
        return list(s.scalars(select(Photo).order_by(Photo.id)))


def cases(runtime) -> list[Case]:
    with runtime.Session() as s:
        return list(s.scalars(select(Case).order_by(Case.id)))


def test_the_webhook_reads_every_attachment_not_only_the_first():
    form = {
        "NumMedia": "3",
        **{f"MediaUrl{n}": f"https://api.twilio.com/m/{n}" for n in range(3)},
        **{
            f"MediaContentType{n}": t
            for n, t in enumerate(["image/jpeg", "image/png", "video/mp4"])
        },
    }
    assert [(m.url, m.content_type) for m in form_media(form)] == [
        ("https://api.twilio.com/m/0", "image/jpeg"),
        ("https://api.twilio.com/m/1", "image/png"),
        ("https://api.twilio.com/m/2", "video/mp4"),
    ]
    assert form_media({"NumMedia": "x"}) == () and form_media({}) == ()


def test_a_photo_alone_starts_a_report_that_files_with_it(say, runtime):
    asked = say("", photo(), photo())
    assert asked.kind == "question" and "What problem does it show" in asked.text
    assert say("pothole on elm st").kind == "question"  # where on Elm Street?
    assert say("in front of 120").kind == "confirm"
    filed = say("yes")
    assert filed.kind == "filed"
    [case] = cases(runtime)
    stored = photos(runtime)
    assert [p.case_id for p in stored] == [case.id, case.id]
    assert all(p.status == "queued" and p.work == "download" for p in stored)
    assert all(p.review == "pending" and p.conversation_id == case.conversation_id for p in stored)


def test_photos_sent_during_a_report_go_with_it(say, runtime):
    say("pothole on elm st")
    reply = say("", photo())
    assert "Thanks for the photo" in reply.text and "Elm Street" in reply.text  # asked again
    reply = say("in front of 120", photo())
    assert reply.kind == "confirm" and "Thanks for the photo" in reply.text
    assert say("yes").kind == "filed"
    [case] = cases(runtime)
    assert [p.case_id for p in photos(runtime)] == [case.id, case.id]


def test_a_photo_right_after_filing_adds_to_that_case(say, runtime, settings):
    say("pothole at 120 elm st")
    number = say("yes").case_number
    added = say("", photo())
    assert added.kind == "photo_added" and number in added.text
    added = say("here it is", photo())
    assert added.kind == "photo_added"
    [case] = cases(runtime)
    assert [p.case_id for p in photos(runtime)] == [case.id, case.id]
    with runtime.Session() as s:
        assert s.scalars(select(TurnRow).order_by(TurnRow.id.desc())).first().case_id == case.id


def test_photo_with_a_case_number_adds_to_the_reporters_own_case_only(say, runtime):
    say("pothole at 120 elm st")
    number = say("yes").case_number
    other = say(f"photo {number}", photo(), sender="+15550100999")
    assert other.kind == "photo_refused" and "couldn't find" in other.text
    assert say("photo 311-999999", photo()).kind == "photo_refused"
    mine = say(f"photo {number}", photo())
    assert mine.kind == "photo_added" and number in mine.text
    assert [p.case_id is not None for p in photos(runtime)] == [False, False, True]


def test_at_most_five_photos_per_case_the_sixth_is_refused(say, runtime):
    say("pothole at 120 elm st")
    number = say("yes").case_number
    reply = say(f"photo {number}", *(photo() for _ in range(4)))
    assert reply.kind == "photo_added" and "didn't keep" not in reply.text
    reply = say(f"photos for {number}", photo(), photo())
    assert reply.kind == "photo_added" and "didn't keep 1" in reply.text
    full = say(f"photo {number}", photo())
    assert full.kind == "photo_refused" and "already has 5 photos" in full.text
    stored = photos(runtime)
    assert sum(p.case_id is not None for p in stored) == 5
    refused = [p for p in stored if p.status == "refused"]
    assert [p.refusal for p in refused] == ["limit", "limit"]
    assert all(p.work == "delete" for p in refused)  # Twilio's copies still go


def test_a_report_keeps_at_most_five(say, runtime):
    reply = say("", *(photo() for _ in range(7)))
    assert "didn't keep 2" in reply.text
    say("pothole at 120 elm st")
    assert say("yes").kind == "filed"
    assert sum(p.case_id is not None for p in photos(runtime)) == 5


def test_a_file_that_is_not_an_image_is_refused_politely(say, runtime):
    reply = say("", photo("video/mp4"))
    assert "only take photos" in reply.text and "911" in reply.text
    reply = say("pothole on elm st", photo("application/pdf"), photo())
    assert "didn't keep the other file" in reply.text and "Thanks for the photo" in reply.text
    stored = photos(runtime)
    assert [(p.status, p.refusal, p.work) for p in stored] == [
        ("refused", "type", "delete"),
        ("refused", "type", "delete"),
        ("queued", None, "download"),
    ]


def test_a_retried_message_stores_its_photos_once(say, runtime):
    first = say("", photo(), photo(), message_id="SM" + "7" * 32)
    again = say("", photo(), photo(), message_id="SM" + "7" * 32)
    assert again.replayed and again.text == first.text
    assert len(photos(runtime)) == 2


def test_an_emergency_with_a_photo_gets_911_and_no_case(say, runtime):
    reply = say("there's a fire in my building", photo())
    assert reply.kind == "emergency" and "911" in reply.text
    say("pothole at 120 elm st")
    assert say("yes").kind == "filed"
    [stored] = photos(runtime)
    assert stored.case_id is None and stored.conversation_id is not None  # kept for staff


def test_the_next_words_after_a_photo_are_read_as_usual(say, runtime):
    say("", photo())
    answer = say("when is trash pickup?")
    assert answer.kind == "answer"  # a question is answered; the photo stays with staff
    assert say("yes").kind == "menu"
    [stored] = photos(runtime)
    assert stored.case_id is None


def test_unclear_words_with_a_photo_ask_what_it_shows(say, runtime):
    reply = say("look at this", photo())
    assert reply.kind == "question" and "What problem does it show" in reply.text
    say("pothole at 120 elm st")
    assert say("yes").kind == "filed"
    [case] = cases(runtime)
    assert photos(runtime)[0].case_id == case.id


def test_photos_wait_while_the_danger_question_is_open(say, runtime):
    asked = say("theres smoke near the pothole at 120 elm st", photo())
    assert asked.kind == "danger_check"
    assert say("", photo()).kind == "danger_check"  # still asked, the photo held too
    carried = say("no")
    assert carried.kind == "confirm" and "120 Elm Street" in carried.text
    assert say("yes").kind == "filed"
    [case] = cases(runtime)
    assert [p.case_id for p in photos(runtime)] == [case.id, case.id]


def test_an_old_case_is_not_where_a_photo_alone_goes(say, runtime):
    say("pothole at 120 elm st")
    say("yes")
    later = cases(runtime)[0].requested_datetime + timedelta(minutes=31)
    runtime.bot.clock = runtime.bot.switching.clock = lambda: later
    reply = say("", photo())
    assert reply.kind == "question"  # what problem does it show?
