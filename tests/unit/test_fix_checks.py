"""Is it fixed? Asked once per number after a closing as fixed, in daytime; the answers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.engine import Turn
from cases.admin_models import User
from cases.conversations import set_opt_out
from cases.fix_checks import FixCheckRules
from cases.lifecycle import Change, reopen, update_case
from cases.models import Case, CaseFollower, Conversation, FixCheck, OutboundMessage
from cases.models import Turn as TurnRow
from cases.service import create_case
from cases.stats import dashboard, outcomes
from cases.users import create_user
from outbound.worker import deliver_due

PHONE = "+15550100001"
CITY = ZoneInfo("America/New_York")
ANY_TIME = FixCheckRules(hours=(0, 24 * 60), delay=timedelta(0))  # asked at once
_ids = itertools.count(1)


class Phone:
    """A sender that records what it was given (as Twilio would have sent it)."""

    dry_run = False

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        self.texts.append((to, body))
        return f"SM{len(self.texts):032d}"

    def find_sent(self, *args, **kwargs) -> None:
        return None


@pytest.fixture
def say(runtime):
    def _say(text: str, sender: str = PHONE):
        turn = Turn("sms", sender, text, f"SM{next(_ids):032d}")
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


@pytest.fixture
def staff(runtime):
    with runtime.Session() as s, s.begin():
        create_user(db_session=s, username="ana", password="x" * 12, role="supervisor")
    return "ana"


@pytest.fixture
def close(runtime, staff):
    """Close a case (by number) as staff would, with these fix-check rules."""

    def _close(number: str, resolution: str = "fixed", rules=ANY_TIME, now=None, **fields):
        with runtime.Session() as s, s.begin():
            case = s.scalars(select(Case).where(Case.service_request_id == number)).one()
            update_case(
                db_session=s,
                case=case,
                change=Change("closed", resolution=resolution, public_note="Done.", **fields),
                actor=s.scalars(select(User).where(User.username == staff)).one(),
                wording=runtime.bot.wording,
                policy=runtime.catalog.policy,
                fix_checks=rules,
                now=now,
            )

    return _close


@pytest.fixture
def phone(runtime):
    """Send what is due through the outbox worker; returns the texts it sent."""
    sender = Phone()

    def _send(at: datetime | None = None) -> list[tuple[str, str]]:
        before = len(sender.texts)
        deliver_due(
            session_factory=runtime.Session, sender=sender, clock=lambda: at or datetime.now(UTC)
        )
        return sender.texts[before:]

    return _send


def file(runtime, address="120 Elm Street", phone=PHONE, *, code="PW-POTHOLE", **extra) -> str:
    service = runtime.catalog.by_code[code]
    with runtime.Session() as s, s.begin():
        case = create_case(
            db_session=s,
            service_code=code,
            service_name=service.service_name,
            agency_responsible=service.agency,
            description="deep hole",
            source="sms",
            address=address,
            contact_phone=phone,
            **extra,
        )
        return case.service_request_id


def questions(runtime) -> list[OutboundMessage]:
    with runtime.Session() as s:
        return list(
            s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.reason == "fix_check")
                .order_by(OutboundMessage.id)
            )
        )


def case(runtime, number: str) -> Case:
    with runtime.Session() as s:
        return s.scalars(select(Case).where(Case.service_request_id == number)).one()


def checks(runtime) -> list[FixCheck]:
    with runtime.Session() as s:
        return list(s.scalars(select(FixCheck).order_by(FixCheck.id)))


# ------------------------------------------------------------------ asking


def test_closing_as_fixed_asks_each_reporter_once_with_the_block_not_the_house(
    runtime, close, phone
):
    number = file(runtime)
    linked = [file(runtime, phone=f"+1555010020{i}") for i in range(3)]
    file(runtime, phone="+15550100201")  # the same neighbour reported it twice
    assert all(case(runtime, n).duplicate_of == case(runtime, number).id for n in linked)
    close(number)
    asked = questions(runtime)
    assert sorted(q.to for q in asked) == [PHONE, "+15550100200", "+15550100201", "+15550100202"]
    [first] = [q.body for q in asked if q.to == PHONE]
    assert first == (
        f"Riverton 311: Was the pothole at 100 block of Elm Street fixed? "
        f"Reply 1 Yes, 2 No, 3 Partly. (Case {number})"
    )
    assert "120" not in first
    sent = phone()
    assert len(sent) == len(asked) + 4  # and the closing's status texts, once each
    # One closing, one question per number: closing the linked reports again adds none.
    assert len(checks(runtime)) == 4 and len({c.closing_event_id for c in checks(runtime)}) == 1


@pytest.mark.parametrize(
    ("closed_local", "asked_local"),
    [
        (datetime(2026, 12, 8, 23, 0), datetime(2026, 12, 9, 9, 0)),  # at night: next morning
        (datetime(2026, 12, 8, 10, 0), datetime(2026, 12, 8, 12, 0)),  # daytime: 2 hours later
        (datetime(2026, 12, 8, 18, 30), datetime(2026, 12, 9, 9, 0)),  # too near the evening
        (datetime(2026, 12, 8, 5, 0), datetime(2026, 12, 8, 9, 0)),  # early: at opening
        (datetime(2026, 7, 4, 23, 30), datetime(2026, 7, 5, 9, 0)),  # summer time (UTC-4)
    ],
)
def test_the_question_waits_for_local_daytime(runtime, close, closed_local, asked_local):
    number = file(runtime)
    closed = closed_local.replace(tzinfo=CITY).astimezone(UTC)
    close(number, rules=FixCheckRules(), now=closed)  # the defaults: 9:00-20:00, 2 h after
    [question] = questions(runtime)
    assert question.next_attempt_at == asked_local.replace(tzinfo=CITY).astimezone(UTC)
    evening = asked_local.replace(hour=20, minute=0, tzinfo=CITY).astimezone(UTC)
    assert question.give_up_at == evening  # retries stop at 20:00: never a text at night
    assert question.give_up_at > question.next_attempt_at
    [check] = checks(runtime)
    assert check.ask_at == question.next_attempt_at and check.status == "asked"


def test_the_worker_sends_the_question_only_once_it_is_daytime(runtime, close, phone):
    number = file(runtime)
    closed = datetime(2026, 12, 8, 23, 0, tzinfo=CITY).astimezone(UTC)
    close(number, rules=FixCheckRules(), now=closed)
    at_night = [body for _, body in phone(closed + timedelta(hours=3))]
    assert len(at_night) == 1 and "is now closed (fixed)" in at_night[0]  # the status text only
    morning = datetime(2026, 12, 9, 9, 0, tzinfo=CITY).astimezone(UTC)
    assert [body for _, body in phone(morning)] == [questions(runtime)[0].body]


def test_no_question_for_opted_out_numbers_callers_without_texts_or_other_outcomes(runtime, close):
    opted = file(runtime, phone="+15550100301")
    with runtime.Session() as s, s.begin():
        set_opt_out(db_session=s, phone="+15550100301", keyword="stop", now=datetime.now(UTC))
    caller = file(runtime, address="9 Oak Ave", phone="+15550100302", updates_wanted=False)
    referred = file(runtime, address="30 Pine St", phone="+15550100303")
    nobody = file(runtime, address="40 Main St", phone=None)
    close(opted)
    close(caller)
    close(nobody)
    close(referred, "referred", referred_to="Riverton Gas", referred_phone="(555) 010-2000")
    other = file(runtime, address="50 Main St", phone="+15550100304")
    close(other, "no_action_needed")
    assert questions(runtime) == [] and checks(runtime) == []


def test_a_follower_is_not_asked(runtime, close):
    number = file(runtime)
    with runtime.Session() as s, s.begin():
        s.add(CaseFollower(case_id=case(runtime, number).id, phone="+15550100399", language="en"))
    close(number)
    assert [q.to for q in questions(runtime)] == [PHONE]


# ------------------------------------------------------------------ answers


def test_no_reopens_the_case_and_says_so(runtime, close, phone, say):
    number = file(runtime)
    close(number)
    phone()
    reply = say("2")
    assert reply.kind == "fix_reopened"
    assert reply.text == (
        f"Sorry it isn't fixed. We've reopened case {number} and sent it back to Department of "
        "Public Works. You'll get a text when it changes."
    )
    reopened = case(runtime, number)
    assert reopened.status == "reopened" and reopened.reopen_count == 1
    assert reopened.resolution is None
    [check] = checks(runtime)
    assert (check.answer, check.status) == ("no", "done") and check.answered_at is not None
    with runtime.Session() as s:
        turn = s.scalars(select(TurnRow).order_by(TurnRow.id.desc())).first()
        assert turn.case_id == reopened.id  # the conversation shows which case it was about
    assert say("2").kind != "fix_reopened"  # answered: a second "2" is not an answer any more


def test_partly_reopens_too(runtime, close, phone, say):
    number = file(runtime)
    close(number)
    phone()
    assert say("Partly").kind == "fix_reopened"
    assert case(runtime, number).status == "reopened"
    assert checks(runtime)[0].answer == "partly"


def test_a_second_no_after_a_second_closing_goes_to_a_person(runtime, close, phone, say):
    number = file(runtime)
    close(number)
    phone()
    assert say("2").kind == "fix_reopened"
    close(number)  # staff close it again: a new closing, asked again
    assert len(questions(runtime)) == 2
    phone()
    reply = say("no")
    assert reply.kind == "handoff" and number in reply.text and "staff member" in reply.text
    assert case(runtime, number).reopen_count == 2 and case(runtime, number).status == "reopened"
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.sender == PHONE)).one()
        assert (conv.handoff_status, conv.handoff_reason) == ("waiting", "reopened_twice")


def test_yes_asks_for_a_rating_and_the_rating_is_kept(runtime, close, phone, say):
    number = file(runtime)
    close(number)
    phone()
    thanks = say("1")
    assert thanks.kind == "fix_rating" and "Reply 1 to 5" in thanks.text
    assert case(runtime, number).status == "closed"
    rated = say("4")
    assert rated.kind == "fix_rated"
    [check] = checks(runtime)
    assert (check.answer, check.rating, check.status) == ("yes", 4, "done")
    assert check.rated_at is not None
    assert say("5").kind != "fix_rated"  # one rating


def test_the_rating_can_be_skipped_or_ignored(runtime, close, phone, say):
    first, second = file(runtime), file(runtime, address="9 Oak Ave")
    close(first)
    phone()
    say("yes")
    assert say("skip").kind == "fix_rated"
    close(second)
    phone()
    say("yes")
    assert say("when is trash pickup?").kind == "answer"  # not a rating: the dialogue goes on
    assert [(c.answer, c.rating, c.status) for c in checks(runtime)] == [
        ("yes", None, "done"),
        ("yes", None, "done"),
    ]


def test_an_unrelated_message_is_handled_normally_and_the_question_waits(
    runtime, close, phone, say
):
    number = file(runtime)
    close(number)
    phone()
    assert say("when is trash pickup?").kind == "answer"
    assert say("noise at 44 maple ave").kind == "question"  # a new report starts as usual
    assert say("2").kind == "confirm"  # mid-report, "2" answers the report's own question
    assert checks(runtime)[0].status == "asked"
    say("no")  # drops the report
    assert say("3").kind == "fix_reopened"  # idle again: the answer to "was it fixed?"


def test_an_emergency_in_the_answer_gets_911_first(runtime, close, phone, say):
    number = file(runtime)
    close(number)
    phone()
    reply = say("2 and now there's a fire in the hole")
    assert reply.kind == "emergency" and "911" in reply.text
    assert say("i can see sparks").kind == "danger_check"
    assert say("no").kind != "fix_reopened"  # "no" answered "is anyone in danger?"
    assert case(runtime, number).status == "closed" and checks(runtime)[0].status == "asked"
    assert say("2").kind == "fix_reopened"  # the question still waits for its answer


def test_nothing_is_an_answer_before_the_question_went_out_or_after_a_week(
    runtime, close, phone, say
):
    number = file(runtime)
    close(number, rules=FixCheckRules(), now=datetime.now(UTC))  # asked 2 hours later at least
    phone()
    assert say("2").kind != "fix_reopened"  # not asked yet
    with runtime.Session() as s, s.begin():  # asked, 8 days ago
        asked = s.scalars(select(OutboundMessage).where(OutboundMessage.reason == "fix_check"))
        message = asked.one()
        message.status, message.sent_at = "sent", datetime.now(UTC) - timedelta(days=8)
    assert say("2").kind != "fix_reopened"
    assert case(runtime, number).status == "closed" and checks(runtime)[0].status == "expired"


def test_a_linked_reporter_saying_no_reopens_the_worked_case_and_their_own(
    runtime, close, phone, say
):
    original = file(runtime, phone="+15550100500")
    mine = file(runtime)
    close(original)
    phone()
    reply = say("2")
    assert mine in reply.text
    assert case(runtime, original).status == "reopened"
    assert case(runtime, mine).status == "reopened"
    with runtime.Session() as s:  # they hear of the worked case's changes meanwhile
        followers = s.scalars(select(CaseFollower.phone).where(CaseFollower.case_id == 1)).all()
        assert PHONE in followers
    close(original)  # closes the linked report again: its reporter is asked again
    assert sorted(q.to for q in questions(runtime)).count(PHONE) == 2


def test_a_case_number_picks_which_question_is_answered(runtime, close, phone, say):
    first, second = file(runtime), file(runtime, address="9 Oak Ave")
    close(first)
    close(second)
    phone()
    assert first in say(f"2 for {first}").text
    assert case(runtime, first).status == "reopened" and case(runtime, second).status == "closed"


def test_a_spanish_reporter_is_asked_in_spanish_and_no_reopens(runtime, close, phone, say):
    say("hay un bache enorme en la calle Elm")
    say("enfrente del 120")
    number = say("si").case_number
    assert case(runtime, number).language == "es"
    close(number)
    [(_, body)] = [t for t in phone() if "311 de Riverton: ¿Quedó" in t[1]]
    assert body == (
        "311 de Riverton: ¿Quedó resuelto el problema (bache en 100 block of Elm Street)? "
        f"Responda 1 Sí, 2 No, 3 En parte. (Caso {number})"
    )
    reply = say("no")
    assert reply.kind == "fix_reopened" and reply.language == "es"
    assert reply.text.startswith(f"Lamentamos que no esté resuelto. Reabrimos el caso {number}")
    assert case(runtime, number).status == "reopened"


def test_a_spanish_yes_and_rating_in_words(runtime, close, phone, say):
    say("hay un bache enorme en la calle Elm")
    say("enfrente del 120")
    number = say("si").case_number
    close(number)
    phone()
    assert say("Sí").kind == "fix_rating"
    assert say("cinco").kind == "fix_rated"
    assert checks(runtime)[0].rating == 5


# ------------------------------------------------------------------ the dashboard's figures


def test_outcome_figures_share_confirmed_reopen_rate_and_median_rating(runtime, close, phone):
    now = datetime.now(UTC)
    numbers = [file(runtime, f"{i} Elm Street", f"+155501006{i:02d}") for i in (1, 3, 5, 7)]
    noise = file(runtime, "5 Maple Ave", "+15550100699", code="PD-NOISE")
    for number in numbers:
        close(number)
    close(noise, "no_action_needed")
    phone()
    planted = [("yes", 4), ("yes", 5), ("yes", 2), ("no", None)]  # 3 yes, 1 no; ratings 4 5 2
    with runtime.Session() as s, s.begin():
        asked = s.scalars(select(FixCheck).order_by(FixCheck.id)).all()
        for check, (answer, rating) in zip(asked, planted, strict=True):
            check.answer, check.rating, check.status = answer, rating, "done"
        last = s.scalars(select(Case).where(Case.service_request_id == numbers[3])).one()
        reopen(db_session=s, case=last, actor="resident", notes="not fixed")
    with runtime.Session() as s:
        by_service, by_agency, total = outcomes(db_session=s, since=now - timedelta(days=1))
        data = dashboard(db_session=s)
    pothole = by_service["Pothole"]
    assert (pothole.answered, pothole.confirmed, pothole.confirmed_share) == (4, 3, 0.75)
    assert pothole.median_rating == 4 and sorted(pothole.ratings) == [2, 4, 5]
    assert (pothole.closed_fixed, pothole.reopened, pothole.reopen_rate) == (4, 1, 0.25)
    public_works = by_agency["Department of Public Works"]
    assert public_works.confirmed_share == 0.75 and public_works.reopen_rate == 0.25
    noise_figures = by_service["Noise Complaint"]
    assert noise_figures.closed_fixed == 0 and noise_figures.reopen_rate is None  # not fixed
    assert noise_figures.confirmed_share is None and noise_figures.median_rating is None
    assert total.closed_fixed == 4 and total.confirmed_share == 0.75
    assert data.reopened_now == 1 and data.outcomes.median_rating == 4
    assert data.outcomes_by_service["Pothole"].reopen_rate == 0.25


def test_linked_reports_closed_with_a_case_are_one_closing_in_the_reopen_rate(runtime, close):
    now = datetime.now(UTC)
    original = file(runtime)
    for i in range(3):
        file(runtime, phone=f"+1555010070{i}")
    close(original)
    with runtime.Session() as s, s.begin():
        reopen(
            db_session=s,
            case=s.scalars(select(Case).where(Case.service_request_id == original)).one(),
            actor="resident",
            notes="not fixed",
        )
    with runtime.Session() as s:
        _, _, total = outcomes(db_session=s, since=now - timedelta(days=1))
    assert (total.closed_fixed, total.reopened) == (1, 1)


def test_a_case_reopened_before_the_question_goes_out_is_not_asked_about(
    runtime, close, phone, staff
):
    number = file(runtime)
    file(runtime, phone="+15550100900")  # a linked report, closed with it
    close(number, rules=FixCheckRules(), now=datetime.now(UTC))  # asked 2 hours later at least
    assert len(questions(runtime)) == 2
    with runtime.Session() as s, s.begin():
        update_case(
            db_session=s,
            case=s.scalars(select(Case).where(Case.service_request_id == number)).one(),
            change=Change("reopened", notes="crew says the patch failed"),
            actor=s.scalars(select(User).where(User.username == staff)).one(),
            wording=runtime.bot.wording,
        )
    assert questions(runtime) == []
    assert [(c.status, c.outbound_message_id) for c in checks(runtime)] == [("cancelled", None)] * 2
    assert all("fixed?" not in body for _, body in phone(datetime.now(UTC) + timedelta(days=1)))


def test_once_a_resident_reopens_it_the_others_are_not_asked(runtime, close, phone, say):
    number = file(runtime)
    file(runtime, phone="+15550100901")
    close(number)
    phone()  # both asked
    file(runtime, address="9 Oak Ave", phone="+15550100902")
    say("2", sender="+15550100901")  # the linked reporter: the worked case is reopened
    assert case(runtime, number).status == "reopened"
    assert say("no").kind == "fix_reopened"  # the first reporter: it is open again already
    assert case(runtime, number).reopen_count == 1  # not reopened twice by two answers


def test_a_digit_is_answered_in_the_language_of_the_question(runtime, close, phone, say):
    number = file(runtime, phone="+15550100950", language="es")  # e.g. filed through Open311
    close(number)
    phone()
    reply = say("2", sender="+15550100950")  # a number never heard before: no language known
    assert reply.kind == "fix_reopened"
    assert reply.text.startswith(f"Lamentamos que no esté resuelto. Reabrimos el caso {number}")
    assert say("2", sender="+15550100950").kind != "fix_reopened"
