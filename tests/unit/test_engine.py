"""The dialogue engine as plain function calls: a fake NLU, the real store and data files."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import Engine, Turn
from cases.models import Case, CaseFollower, Conversation, OptOut
from cases.models import Turn as TurnRow
from runtime import build_runtime

PHONE = "+15550100001"
_ids = itertools.count(1)


@pytest.fixture
def say(runtime):
    """Send one SMS from PHONE (or `sender`) and return the reply."""

    def _say(text: str, sender: str = PHONE, message_id: str | None = None):
        turn = Turn("sms", sender, text, message_id or f"SM{next(_ids):032d}")
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


def count(runtime, model) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_pothole_report_asks_only_what_is_missing_and_files(say, runtime):
    first = say("there's a huge pothole on Elm St")
    assert first.kind == "question" and "Elm Street" in first.text  # where on Elm Street?
    second = say("in front of 120")
    assert second.kind == "confirm"
    assert "Pothole at 120 Elm Street" in second.text and "Bigger than a tire" in second.text
    filed = say("yes")
    assert filed.kind == "filed"
    assert filed.case_number and filed.case_number.startswith("311-")
    assert filed.case_number in filed.text
    with runtime.Session() as session:
        case = session.scalars(select(Case)).one()
    assert case.service_code == "PW-POTHOLE"
    assert case.address == "120 Elm Street"
    assert case.attributes == {"size": "large"}  # "huge" is a synonym of large
    assert case.status == "received" and case.source == "sms" and case.lat is not None


def test_report_without_location_asks_for_it_then_intersection_is_enough(say, runtime):
    assert say("pothole!!").kind == "question"
    reply = say("elm and main")
    assert reply.kind == "confirm" and "Elm Street and Main Street" in reply.text
    assert say("yes").kind == "filed"
    assert count(runtime, Case) == 1


def test_unknown_street_is_asked_again(say):
    say("pothole")
    reply = say("Zzyzx Road")
    assert reply.kind == "question" and "couldn't find" in reply.text


@pytest.mark.parametrize("word", ["no", "cancel that", "start over", "never mind"])
def test_cancel_words_work_at_any_step(say, runtime, word):
    say("pothole on elm st")
    reply = say(word)
    assert reply.kind == "cancelled"
    assert say("yes").kind == "menu"  # nothing pending any more
    assert count(runtime, Case) == 0


def test_required_attribute_is_asked_with_choices(say):
    reply = say("noise at 44 maple ave")
    assert reply.kind == "question" and "1)" in reply.text
    assert say("purple").kind == "question"  # not a choice: asked again
    confirm = say("1")
    assert confirm.kind == "confirm"


def test_knowledge_base_answer_files_nothing(say, runtime):
    reply = say("when is trash pickup?")
    assert reply.kind == "answer" and "http" in reply.text
    assert count(runtime, Case) == 0


def test_status_of_existing_and_unknown_case(say):
    say("pothole at 12 oak ave")
    number = say("yes").case_number
    reply = say(f"status of {number}")
    assert reply.kind == "status" and number in reply.text and "Pothole" in reply.text
    assert "is open" in reply.text
    unknown = say("status of 311-999999")
    assert unknown.kind == "status_unknown" and "311-999999" in unknown.text


def test_status_without_number_asks_for_it(say):
    assert say("whats the status").kind == "question"
    say("pothole at 12 oak ave")  # a new request replaces the question
    assert say("yes").kind == "filed"


@pytest.mark.parametrize("text", ["there's a fire", "someone is breaking into my neighbor's house"])
def test_emergency_says_911_and_files_nothing(say, runtime, text):
    reply = say(text)
    assert reply.kind == "emergency" and "911" in reply.text
    assert count(runtime, Case) == 0


def test_emergency_net_works_even_with_nlu_down(runtime, say, nlu):
    nlu.down = True
    assert say("my house is on fire").kind == "emergency"


def test_request_human_flags_the_conversation(say, runtime):
    reply = say("I want to talk to a person")
    assert reply.kind == "handoff"
    with runtime.Session() as session:
        conv = session.scalars(select(Conversation)).one()
    assert conv.handoff_status == "waiting" and conv.handoff_requested_at is not None
    assert say("hello?").kind == "holding"
    assert say("menu").kind == "menu"


def test_two_misses_hand_off(say, runtime):
    first = say("asdf qwerty")
    assert first.kind == "reprompt" and "report a problem" in first.text
    assert say("blorp").kind == "handoff"


def test_understood_message_resets_misses(say):
    assert say("asdf").kind == "reprompt"
    assert say("hi").kind == "greeting"
    assert say("blorp").kind == "reprompt"


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("STOP", "opt_out"),
        ("start", "opt_in"),
        ("HELP", "help"),
        ("unsubscribe", "opt_out"),
        ("Cancel", "opt_out"),
    ],
)
def test_compliance_keywords_are_never_classified(say, nlu, word, kind):
    reply = say(word)
    assert reply.kind == kind
    assert nlu.calls == []


def test_stop_records_opt_out_and_start_removes_it(say, runtime):
    say("STOP")
    assert count(runtime, OptOut) == 1
    say("START")
    assert count(runtime, OptOut) == 0


def test_yes_is_an_answer_unless_opted_out(say):
    say("pothole at 5 elm st")
    assert say("YES").kind == "filed"
    say("STOP")
    assert say("YES").kind == "opt_in"


def test_retried_message_id_replays_and_files_once(say, runtime):
    say("pothole at 5 elm st", message_id="SMretry1")
    first = say("yes", message_id="SMretry2")
    again = say("yes", message_id="SMretry2")
    assert again.replayed and again.text == first.text and again.case_number == first.case_number
    assert count(runtime, Case) == 1
    assert count(runtime, TurnRow) == 2


def test_nlu_down_still_stores_the_message(say, runtime, nlu):
    nlu.down = True
    reply = say("there is a big problem on my street")
    assert reply.kind == "nlu_unavailable"
    with runtime.Session() as session:
        turn = session.scalars(select(TurnRow)).one()
    assert turn.text == "there is a big problem on my street" and turn.nlu_error


def test_mid_report_answers_do_not_need_nlu(say, nlu):
    say("pothole on elm st")
    nlu.down = True
    assert say("120").kind == "confirm"
    assert say("yes").kind == "filed"


def test_card_numbers_are_redacted_before_storage(say, runtime):
    say("my card is 4111 1111 1111 1111 and i need help")
    with runtime.Session() as session:
        turn = session.scalars(select(TurnRow)).one()
    assert "4111" not in turn.text and "[card number removed]" in turn.text


def test_state_survives_a_new_engine(settings, nlu):
    one = build_runtime(settings, nlu)
    with one.Session() as s:
        one.bot.handle(Turn("sms", PHONE, "pothole on elm st", "SMa"), db_session=s)
    two = build_runtime(settings, nlu)  # as if another gunicorn worker, or after a restart
    with two.Session() as s:
        assert two.bot.handle(Turn("sms", PHONE, "120", "SMb"), db_session=s).kind == "confirm"


def test_inactive_conversation_times_out(settings, nlu):
    rt = build_runtime(settings, nlu)
    clock = [rt.bot.clock()]
    engine = Engine(
        catalog=rt.catalog,
        kb=rt.kb,
        streets=rt.streets,
        nlu=nlu,
        safety=rt.bot.safety,
        wording=rt.bot.wording,
        conversation_timeout=timedelta(minutes=30),
        clock=lambda: clock[0],
    )
    with rt.Session() as s:
        engine.handle(Turn("sms", PHONE, "pothole on elm st", "SM1"), db_session=s)
    clock[0] += timedelta(hours=2)
    with rt.Session() as s:
        assert engine.handle(Turn("sms", PHONE, "120", "SM2"), db_session=s).kind != "confirm"
        convs = s.scalars(select(Conversation).order_by(Conversation.id)).all()
    assert [c.status for c in convs] == ["closed", "active"] and convs[0].end_reason == "timeout"


def test_second_report_of_the_same_spot_is_linked_to_the_first(say, runtime):
    say("pothole at 120 elm st", sender="+15550100101")
    first = say("yes", sender="+15550100101").case_number
    say("pothole at 120 Elm Street", sender="+15550100102")
    second = say("yes", sender="+15550100102")
    assert second.kind == "filed" and f"already known as case {first}" in second.text
    assert "Reply FOLLOW" in second.text
    with runtime.Session() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
    assert cases[1].duplicate_of == cases[0].id and cases[0].duplicate_of is None
    follow = say("follow", sender="+15550100102")  # FOLLOW right after: the known problem
    assert follow.kind == "following" and first in follow.text
    again = say(f"FOLLOW {first}", sender="+15550100102")
    assert again.kind == "following" and "already" in again.text
    with runtime.Session() as session:
        [follower] = session.scalars(select(CaseFollower)).all()
    assert (follower.case_id, follower.phone) == (cases[0].id, "+15550100102")


def test_one_number_follows_a_bounded_number_of_open_cases(say, runtime):
    """Case numbers are sequential and FOLLOW needs no link: without a bound, one number (or
    a spoofed one) could sign up for every case's texts, at the city's cost."""
    from cases.enums import CaseStatus
    from cases.service import create_case
    from cases.updates import MAX_FOLLOWING

    with runtime.Session() as s, s.begin():
        numbers = [
            create_case(
                db_session=s,
                service_code="PW-POTHOLE",
                service_name="Pothole",
                agency_responsible="Public Works",
                description="",
                source="open311",
                address=f"{n} Elm Street",
            ).service_request_id
            for n in range(1, MAX_FOLLOWING + 3)
        ]
    replies = [say(f"FOLLOW {number}", sender="+15550100199") for number in numbers]
    assert [r.kind for r in replies[:MAX_FOLLOWING]] == ["following"] * MAX_FOLLOWING
    assert all("you'll get a text" in r.text for r in replies[:MAX_FOLLOWING])
    refused = replies[MAX_FOLLOWING]
    assert refused.kind == "following" and str(MAX_FOLLOWING) in refused.text
    assert "you'll get a text" not in refused.text
    assert count(runtime, CaseFollower) == MAX_FOLLOWING
    again = say(f"FOLLOW {numbers[0]}", sender="+15550100199")
    assert "already" in again.text  # still told about one it follows
    with runtime.Session() as s, s.begin():  # a closed case no longer counts
        s.scalars(
            select(Case).where(Case.service_request_id == numbers[0])
        ).one().status = CaseStatus.CLOSED
    assert "you'll get a text" in say(f"FOLLOW {numbers[-1]}", sender="+15550100199").text
    assert "you'll get a text" in say(f"FOLLOW {numbers[-1]}", sender="+15550100200").text


def test_follow_without_a_case_asks_which(say):
    reply = say("follow")
    assert reply.kind == "question" and "FOLLOW 311-000123" in reply.text
