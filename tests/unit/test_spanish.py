"""Spanish end to end through the engine: detected, asked for, remembered; text from a call."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import Turn
from cases.lifecycle import Change, update_case
from cases.models import Case, CaseFollower, Conversation, OutboundMessage, ResidentLanguage
from cases.users import create_user
from tests.fakes import FakeNLU

PHONE = "+15550100042"
_ids = itertools.count(1)


@pytest.fixture
def say(runtime):
    def _say(text: str, sender: str = PHONE, channel: str = "sms", **extra):
        turn = Turn(channel, sender, text, f"SM{next(_ids):032d}", **extra)
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


def es(runtime, name: str, channel: str = "sms") -> str:
    """The start of a Spanish message, up to its first placeholder."""
    return runtime.bot.wording.catalogues["es"].text(name, channel).split("{")[0].strip()


def test_a_spanish_report_is_understood_answered_and_filed_in_spanish(say, runtime, nlu):
    reply = say("hay un bache enorme en la calle Elm")
    assert nlu.languages == ["es"]  # routed to the Spanish model
    assert reply.language == "es" and reply.kind == "question"
    assert "Elm" in reply.text and "Where on" not in reply.text
    assert say("enfrente del 120").kind == "confirm"
    filed = say("si")
    assert filed.kind == "filed" and filed.text.startswith(es(runtime, "FILED"))
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
        conv = s.scalars(select(Conversation)).one()
        assert (case.language, conv.language) == ("es", "es")
        assert case.service_name == "Pothole"  # staff and Open311 read the English name
        assert case.address == "120 Elm Street"
        assert s.get(ResidentLanguage, PHONE).language == "es"


def test_the_language_is_remembered_for_the_next_conversation(say, runtime):
    say("hay mucho ruido en mi edificio")
    later = runtime.bot.clock() + timedelta(hours=2)
    runtime.bot.clock = runtime.bot.switching.clock = lambda: later
    reply = say("ok")  # too short to tell: the number's last language
    assert reply.language == "es"


def test_asking_for_spanish_mid_report_keeps_the_report_and_asks_again(say, runtime):
    assert say("pothole on elm st").language == "en"
    switched = say("en español por favor")
    assert switched.language == "es"
    assert switched.text.startswith(es(runtime, "LANGUAGE_CHANGED"))
    assert "Elm Street" in switched.text  # the open question, asked again in Spanish
    assert say("120").kind == "confirm"
    english = say("english please")
    assert english.language == "en" and "OK, I'll continue in English" in english.text
    assert say("yes").kind == "filed"
    with runtime.Session() as s:
        assert s.get(ResidentLanguage, PHONE).chosen


def test_an_english_word_in_a_short_spanish_answer_does_not_switch(say):
    say("hay un bache en la calle Elm")
    assert say("120 Elm St").language == "es"


def test_spanish_compliance_keywords_answer_in_spanish(say, runtime):
    stop = say("PARAR")
    assert stop.kind == "opt_out" and stop.text.startswith(es(runtime, "OPT_OUT"))
    help_ = say("AYUDA")
    assert help_.kind == "help" and help_.language == "es"


def test_a_spanish_emergency_gets_911_in_spanish_and_no_case(say, runtime):
    reply = say("hay un incendio en el edificio de al lado")
    assert reply.kind == "emergency" and reply.text.startswith(es(runtime, "EMERGENCY"))
    with runtime.Session() as s:
        assert s.scalars(select(Case)).first() is None


def test_status_texts_go_in_the_reporters_language(say, runtime):
    say("hay un bache en la calle Elm")
    say("enfrente del 120")
    say("si")
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="ana", password="x" * 12, role="supervisor")
        case = s.scalars(select(Case)).one()
        update_case(
            db_session=s,
            case=case,
            change=Change("closed", notes="", public_note="Reparado.", resolution="fixed"),
            actor=staff,
            wording=runtime.bot.wording,
        )
    with runtime.Session() as s:
        body = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.reason == "case_status")
        ).one()
    assert "Bache" in body and "cerrado" in body and "Reparado." in body


def test_keypad_nine_switches_a_call_to_spanish(runtime):
    with runtime.Session() as s:
        welcome = runtime.bot.start_call(call_sid="CA1", caller=PHONE, db_session=s)
    assert "Para español" in welcome.text and welcome.language == "en"
    turn = Turn("voice", PHONE, "", "CA1:1", digits="9", call_sid="CA1")
    with runtime.Session() as s:
        reply = runtime.bot.handle(turn, db_session=s)
    assert reply.language == "es" and reply.text.startswith(
        es(runtime, "LANGUAGE_CHANGED", "voice")
    )
    with runtime.Session() as s:
        again = runtime.bot.start_call(call_sid="CA2", caller=PHONE, db_session=s)
    assert again.language == "es"  # the next call is welcomed in Spanish


def test_keypad_eight_moves_a_call_to_text_with_the_report_so_far(runtime, say):
    with runtime.Session() as s:
        runtime.bot.start_call(call_sid="CA9", caller=PHONE, db_session=s)
    said = say("there is a pothole on elm street", channel="voice", call_sid="CA9")
    assert said.kind == "question"
    bye = say("", channel="voice", call_sid="CA9", digits="8")
    assert bye.action == "hangup" and "continue by text" in bye.text
    with runtime.Session() as s:
        text = s.scalars(select(OutboundMessage).where(OutboundMessage.reason == "text_me")).one()
        assert text.to == PHONE and "Elm Street" in text.body
        call = s.scalars(select(Conversation).where(Conversation.channel == "voice")).one()
        assert call.status == "closed" and call.end_reason == "moved_to_sms"
    assert say("120").kind == "confirm"  # the report goes on by text
    assert say("yes").kind == "filed"


def test_a_caller_who_cannot_be_texted_is_told_so_and_kept(runtime, say):
    with runtime.Session() as s:
        runtime.bot.start_call(call_sid="CA7", caller="anonymous", db_session=s)
    reply = say("", sender="anonymous", channel="voice", call_sid="CA7", digits="8")
    assert reply.action is None and "can't text" in reply.text


def test_a_place_given_when_asked_is_an_answer_whatever_the_nlu_guesses(say, nlu, runtime):
    nlu.ES_RULES = [(r"^en jefferson", "request_human", 0.67), *FakeNLU.ES_RULES]
    assert say("el bache en Madison Ave esta enorme").kind == "question"
    reply = say("en Jefferson")  # the Spanish model once read this as "get me a person"
    assert reply.kind == "confirm" and "Jefferson" in reply.text
    with runtime.Session() as s:
        assert s.scalars(select(Conversation)).one().handoff_status == "none"


def test_a_case_number_keyed_in_outside_a_question_is_looked_up(runtime, say):
    with runtime.Session() as s:
        runtime.bot.start_call(call_sid="CA5", caller=PHONE, db_session=s)
    reply = say("", channel="voice", call_sid="CA5", digits="311000001")
    assert reply.kind in {"status", "status_unknown"}  # not "the NLU is down"


@pytest.mark.parametrize(
    "text", ["no importa, yo llamo al departamento de agua", "borra eso", "ah olvidalo"]
)
def test_spanish_ways_to_drop_a_report(say, text):
    say("hay un bache en la calle Elm")
    assert say(text).kind == "cancelled"


def test_neither_heat_nor_hot_water_is_both(say):
    say("no hay agua caliente en el 15 Birch St")
    reply = say("en realidad son las dos, no hay calefaccion ni agua caliente")
    assert "Ni calefacción ni agua caliente" in reply.text


def test_a_spanish_correction_of_the_street_at_the_house_number_question(say):
    say("bache en Elm St")
    reply = say("no, es en la calle Oak, no Elm")
    assert reply.kind == "question" and "Oak Avenue" in reply.text and "Elm" not in reply.text


def test_a_spoken_house_number_is_an_answer_whatever_the_nlu_guesses(runtime, say, nlu):
    nlu.ES_RULES = [(r"^enfrente del", "request_human", 0.66), *FakeNLU.ES_RULES]
    with runtime.Session() as s:
        runtime.bot.start_call(call_sid="CA3", caller=PHONE, db_session=s)
    say("", channel="voice", call_sid="CA3", digits="9")
    assert say("hay un bache en sunset drive", channel="voice", call_sid="CA3").kind == "question"
    reply = say("enfrente del ciento veinte", channel="voice", call_sid="CA3")
    assert reply.kind == "confirm" and "120 Sunset Drive" in reply.text


def test_a_known_problem_is_followed_with_seguir(say, runtime):
    for phone in ("+15550100051", "+15550100052"):
        say("hay un bache enorme en la calle Elm", sender=phone)
        say("enfrente del 120", sender=phone)
        filed = say("si", sender=phone)
    assert "Responda SEGUIR" in filed.text and "311-000001" in filed.text
    reply = say("seguir", sender="+15550100052")
    assert reply.kind == "following" and reply.text.startswith(es(runtime, "FOLLOWING"))
    with runtime.Session() as s:
        [follower] = s.scalars(select(CaseFollower)).all()
    assert (follower.phone, follower.language) == ("+15550100052", "es")
