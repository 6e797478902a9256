"""City notices: known problems deflect reports, KB answers and call greetings lead with them,
ALERTS lists and subscribes, and a broadcast texts each subscriber in the area once, in hours."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import Turn
from cases import notices
from cases.fix_checks import FixCheckRules
from cases.models import Case, CaseFollower, OptOut, OutboundMessage, utcnow
from cases.notice_models import AlertSubscription, Notice

PHONE = "+15550107001"
_ids = itertools.count(1)
HOLIDAY = "Pickup is one day late because of the holiday."


@pytest.fixture
def say(runtime):
    def _say(text: str, sender: str = PHONE):
        turn = Turn("sms", sender, text, f"SMN{next(_ids):031d}")
        with runtime.Session() as session:
            return runtime.bot.handle(turn, db_session=session)

    return _say


def publish(runtime, *, streets=(), services=("PW-POTHOLE",), kb=(), start=None, hours=2, **texts):
    now = utcnow()
    start = start or now - timedelta(hours=1)

    def parent_fields(code: str) -> dict[str, str]:
        service = runtime.catalog.by_code[code]
        return {"service_name": service.service_name, "agency_responsible": service.agency}

    with runtime.Session() as session, session.begin():
        notice = notices.publish(
            db_session=session,
            texts=texts or {"en": "Crews are repairing Elm Street.", "es": "Reparan Elm Street."},
            streets=list(streets),
            service_codes=list(services),
            kb_intents=list(kb),
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            actor_name="admin",
            parent_fields=parent_fields,
            now=now,
        )
        parent = session.get(Case, notice.parent_case_id) if notice.parent_case_id else None
        return notice.id, parent.service_request_id if parent else None


def count(runtime, model) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count()).select_from(model))


def report_pothole(say):
    say("there's a huge pothole on Elm St")
    assert say("in front of 120").kind == "confirm"
    return say("yes")


def test_a_notice_deflects_a_matching_report_and_follow_links_it_to_the_parent(say, runtime):
    _, parent = publish(runtime, streets=["Elm Street"])
    known = report_pothole(say)
    assert known.kind == "known" and parent in known.text and "Crews are repairing" in known.text
    assert count(runtime, Case) == 1  # only the notice's parent: nothing new filed
    follow = say("FOLLOW")
    assert follow.kind == "following" and parent in follow.text
    with runtime.Session() as session:
        follower = session.scalars(select(CaseFollower)).one()
        assert follower.phone == PHONE
        assert session.get(Case, follower.case_id).service_request_id == parent
    assert count(runtime, Case) == 1


def test_a_resident_who_insists_still_files(say, runtime):
    publish(runtime)  # citywide
    assert report_pothole(say).kind == "known"
    filed = say("FILE")
    assert filed.kind == "filed" and filed.case_number
    assert count(runtime, Case) == 2


@pytest.mark.parametrize("case", ["other_street", "expired", "upcoming", "other_service"])
def test_a_notice_elsewhere_or_not_active_does_not_deflect(say, runtime, case):
    if case == "other_street":
        publish(runtime, streets=["Main Street"])
    elif case == "expired":
        publish(runtime, start=utcnow() - timedelta(hours=3), hours=2)
    elif case == "upcoming":
        publish(runtime, start=utcnow() + timedelta(hours=1))
    else:
        publish(runtime, services=["PD-NOISE"])
    assert report_pothole(say).kind == "filed"
    assert count(runtime, Case) == 2


def test_a_kb_answer_starts_with_the_active_notice_in_the_residents_language(say, runtime):
    publish(
        runtime,
        services=(),
        kb=["ask_trash_schedule"],
        en=HOLIDAY,
        es="La recogida va un día tarde.",
    )
    answer = say("when is my trash day?")
    assert answer.kind == "answer" and answer.text.startswith(f"City notice: {HOLIDAY}")
    spanish = say("cuando pasa la basura?", sender="+15550107002")
    assert spanish.text.startswith("Aviso de la ciudad: La recogida va un día tarde.")
    assert not say("is there a pothole rule?", sender="+15550107003").text.startswith("City")


def test_alerts_lists_active_notices_only(say, runtime):
    assert "no city notices" in say("ALERTS").text
    publish(runtime, en="Water is off on Elm Street until 5 pm.", es="Sin agua en Elm Street.")
    publish(runtime, en="Old notice.", start=utcnow() - timedelta(hours=5), hours=1)
    listed = say("alerts")
    assert "Water is off on Elm Street" in listed.text and "Old notice" not in listed.text
    spanish = say("ALERTAS", sender="+15550107004")  # Spanish word: Spanish text
    assert "Sin agua en Elm Street." in spanish.text and spanish.language == "es"


def test_a_calls_greeting_plays_citywide_notices(runtime):
    publish(runtime, en="City offices are closed today.", es="Las oficinas cierran hoy.")
    publish(runtime, streets=["Elm Street"], en="Only Elm Street.")
    with runtime.Session() as session:
        welcome = runtime.bot.start_call(call_sid="CA1", caller="+15550107005", db_session=session)
    assert "City offices are closed today." in welcome.text and "Only Elm" not in welcome.text
    assert welcome.text.index("9 1 1") < welcome.text.index("City offices")  # safety first


def test_an_emergency_still_comes_first_with_a_notice(say, runtime):
    publish(runtime)
    assert say("there's a fire on Elm St").kind == "emergency"


def test_subscribing_by_sms_records_consent_and_alerts_off_ends_it(say, runtime):
    reply = say("ALERTS TRASH 120 Elm St")
    assert "Elm Street" in reply.text and "Missed Trash" in reply.text and reply.language == "en"
    with runtime.Session() as session:
        sub = session.scalars(select(AlertSubscription)).one()
        assert (sub.phone, sub.street, sub.service_codes) == (
            PHONE,
            "Elm Street",
            ["PW-MISSEDPICKUP"],
        )
        assert sub.consented_at and sub.source_text == "ALERTS TRASH 120 Elm St"
        assert sub.ended_at is None
    assert "no more city alerts" in say("ALERTS OFF").text
    with runtime.Session() as session:
        assert session.scalars(select(AlertSubscription)).one().ended_at is not None


def test_a_broadcast_queues_one_text_per_subscriber_in_the_area_spaced_in_hours(runtime):
    noon = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 12:00 in New York
    night = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 22:00 in New York
    rules = FixCheckRules(timezone="America/New_York", hours=(9 * 60, 20 * 60))
    with runtime.Session() as session, session.begin():
        for phone, street, codes in [
            ("+15550108001", "Elm Street", ["PW-POTHOLE"]),
            ("+15550108001", None, []),  # the same number twice: one text
            ("+15550108002", None, []),  # citywide subscriber
            ("+15550108003", "Elm Street", []),
            ("+15550108004", "Main Street", []),  # outside the area
            ("+15550108005", "Elm Street", ["PD-NOISE"]),  # another topic
            ("+15550108006", "Elm Street", []),  # opted out
        ]:
            notices.subscribe(
                db_session=session,
                phone=phone,
                service_codes=codes,
                street=street,
                language="en",
                source_text="ALERTS",
                now=noon,
            )
        session.add(OptOut(phone="+15550108006", keyword="stop", opted_out_at=noon))
        notice = Notice(
            texts={"en": "Elm St closed."},
            streets=["Elm Street"],
            service_codes=["PW-POTHOLE"],
            kb_intents=[],
            starts_at=noon,
            ends_at=noon + timedelta(hours=3),
        )
        session.add(notice)
        session.flush()
        done = notices.broadcast(
            db_session=session,
            notice=notice,
            body=lambda lang: f"alert {lang}",
            rules=rules,
            per_minute=2,
            now=noon,
        )
        assert (done.queued, done.skipped) == (3, 1)
        texts = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert sorted(t.to for t in texts) == ["+15550108001", "+15550108002", "+15550108003"]
        assert [t.next_attempt_at for t in texts] == [
            noon,
            noon + timedelta(seconds=30),
            noon + timedelta(seconds=60),
        ]
        assert (notice.broadcast_queued, notice.broadcast_skipped) == (3, 1)
        late = notices.broadcast(
            db_session=session,
            notice=notice,
            body=lambda lang: "x",
            rules=rules,
            per_minute=60,
            now=night,
        )
        assert late.first_at == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)  # 09:00 next morning
