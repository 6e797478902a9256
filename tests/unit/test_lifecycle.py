"""A case's life after filing: statuses, resolution codes, linked reports and who is texted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.conversations import set_opt_out
from cases.enums import CaseStatus
from cases.lifecycle import CaseError, Change, reopen, update_case
from cases.models import Case, CaseEvent, OutboundMessage, utcnow
from cases.public import PublicPolicy, open311_notes, public_request, status_description
from cases.service import create_case
from cases.updates import follow
from cases.users import create_user


def file(s, address: str, phone: str | None, *, code="PW-POTHOLE", **extra) -> Case:
    return create_case(
        db_session=s,
        service_code=code,
        service_name="Pothole" if code == "PW-POTHOLE" else "Noise",
        agency_responsible="Public Works",
        description="deep hole, call me at 555-010-7777",
        source="sms",
        address=address,
        contact_phone=phone,
        **extra,
    )


@pytest.fixture
def world(runtime):
    """A session, a member of staff and a change function with the real wording."""
    with runtime.Session() as s, s.begin():
        staff = create_user(db_session=s, username="ana", password="x" * 12, role="supervisor")
    session = runtime.Session()

    def change(case: Case, status: str, **fields) -> CaseEvent:
        return update_case(
            db_session=session,
            case=case,
            change=Change(status, **fields),
            actor=session.merge(staff),
            wording=runtime.bot.wording,
            policy=runtime.catalog.policy,
        )

    yield session, change
    session.close()


def texts(s) -> list[OutboundMessage]:
    return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_a_new_case_is_received_with_an_unguessable_page_token(world):
    s, _ = world
    one, two = file(s, "120 Elm Street", "+15550100001"), file(s, "9 Oak Ave", None)
    assert one.status == CaseStatus.RECEIVED
    assert one.public_token and len(one.public_token) == 6 and one.public_token != two.public_token
    assert public_request(one, PublicPolicy(sensitive=False))["status"] == "open"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"public_note": "Done."}, "needs a resolution"),
        ({"resolution": "fixed"}, "needs a public note"),
        (
            {"resolution": "duplicate", "public_note": "x", "duplicate_of": "311-999999"},
            "not found",
        ),
        ({"resolution": "referred", "public_note": "x", "referred_to": "Gas Co"}, "phone"),
        ({"resolution": "unable_to_act", "public_note": "x"}, "needs a reason"),
        ({"resolution": "because", "public_note": "x"}, "needs a resolution"),
    ],
)
def test_closing_needs_an_outcome_and_what_it_needs(world, fields, problem):
    s, change = world
    case = file(s, "120 Elm Street", "+15550100001")
    with pytest.raises(CaseError, match=problem):
        change(case, "closed", **fields)
    assert case.status == CaseStatus.RECEIVED and texts(s) == []


def test_assigned_needs_someone_and_each_step_is_texted_to_the_reporter(world):
    s, change = world
    case = file(s, "120 Elm Street", "+15550100001")
    with pytest.raises(CaseError, match="assigned needs"):
        change(case, "assigned")
    change(case, "assigned", assigned_to="DPW Crew 4")
    change(case, "in_progress", public_note="Crew on site.")
    change(case, "closed", resolution="referred", public_note="Gas leak line.",
           referred_to="Riverton Gas", referred_phone="(555) 010-2000")  # fmt: skip
    bodies = [t.body for t in texts(s)]
    assert len(bodies) == 3 and all(t.to == "+15550100001" for t in texts(s))
    assert "assigned to DPW Crew 4" in bodies[0]
    assert "in progress" in bodies[1] and "Crew on site." in bodies[1]
    assert "closed (referred to Riverton Gas, (555) 010-2000)" in bodies[2]
    assert f"/c/{case.service_request_id}-{case.public_token}" in bodies[2]
    assert status_description(case) == "Closed: referred to Riverton Gas, (555) 010-2000"
    assert case.closed_datetime is not None and case.resolution == "referred"


def test_closing_the_original_closes_twenty_linked_reports_one_text_per_follower(world):
    s, change = world
    original = file(s, "120 Elm Street", "+15550100000")
    linked = [file(s, "120 Elm Street", f"+155501001{i:02d}") for i in range(20)]
    assert all(c.duplicate_of == original.id for c in linked)
    linked.append(file(s, "120 Elm Street", "+15550100105"))  # the same person twice
    assert follow(db_session=s, case=original, phone="+15550100999", language="es")
    assert follow(db_session=s, case=original, phone="+15550100103", language="en")
    assert follow(db_session=s, case=original, phone="+15550100998", language="en")
    set_opt_out(db_session=s, phone="+15550100998", keyword="stop", now=utcnow())  # then STOP
    assert not follow(db_session=s, case=original, phone="+15550100999", language="es")
    change(original, "closed", resolution="fixed", public_note="Filled on Tuesday.")
    sent = [t for t in texts(s) if t.reason == "case_status"]
    phones = [t.to for t in sent]
    assert len(phones) == len(set(phones)) == 22  # 1 + 20 reporters + 1 follower, once each
    asked = [t.to for t in texts(s) if t.reason == "fix_check"]  # "was it fixed?": reporters
    assert len(asked) == len(set(asked)) == 21 and "+15550100999" not in asked
    assert all(c.status == CaseStatus.CLOSED and c.resolution == "fixed" for c in linked)
    assert all(c.status_notes == "Filled on Tuesday." for c in linked)
    spanish = next(t.body for t in sent if t.to == "+15550100999")
    assert "cerrado (resuelto)" in spanish
    assert "Bache" in spanish  # the follower's language, not the reporter's


def test_a_follower_is_told_only_what_the_public_may_see(world):
    s, change = world
    noise = file(s, "48 Maple Ave Apt 3", "+15550100001", code="PD-NOISE")
    follow(db_session=s, case=noise, phone="+15550100002", language="en")
    change(noise, "in_progress")
    by_phone = {t.to: t.body for t in texts(s)}
    assert "48 Maple Ave" in by_phone["+15550100001"]  # the reporter: their own address
    assert (
        "48 Maple" not in by_phone["+15550100002"] and "block of Maple" in by_phone["+15550100002"]
    )


def test_a_caller_who_did_not_take_texts_is_not_texted(world):
    s, change = world
    case = file(s, "120 Elm Street", "+15550100001", updates_wanted=False)
    change(case, "closed", resolution="fixed", public_note="Done.")
    assert texts(s) == []


def test_closing_as_duplicate_links_it_and_hands_over_its_own_reports(world):
    s, change = world
    a = file(s, "120 Elm Street", "+15550100001")
    b = file(s, "5 Oak Ave", "+15550100002")
    b_dup = file(s, "5 Oak Ave", "+15550100003")
    with pytest.raises(CaseError, match="itself"):
        change(b, "closed", resolution="duplicate", duplicate_of=b.service_request_id,
               public_note="x")  # fmt: skip
    change(b, "closed", resolution="duplicate", duplicate_of=a.service_request_id,
           public_note="Same pothole as another report.")  # fmt: skip
    assert b.duplicate_of == a.id and b_dup.duplicate_of == a.id
    assert b_dup.status == CaseStatus.RECEIVED  # still open, now waiting on a
    assert status_description(b) == f"Closed: duplicate of {a.service_request_id}"


def test_reopen_and_the_public_timeline(world):
    s, change = world
    case = file(s, "120 Elm Street", "+15550100001")
    change(case, "assigned", assigned_to="DPW Crew 4", notes="internal: tenant Ana Ruiz")
    change(case, "closed", resolution="fixed", public_note="Filled.")
    reopen(db_session=s, case=case, actor="resident", notes="resident: not fixed")
    s.flush()
    assert case.status == CaseStatus.REOPENED and case.reopen_count == 1
    assert case.resolution is None and case.closed_datetime is None
    events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
    notes = open311_notes(case, events)
    assert [n["type"] for n in notes] == ["received", "assigned", "closed", "reopened"]
    assert notes[1]["summary"] == "Assigned to DPW Crew 4" and notes[2]["description"] == "Filled."
    assert "Ana" not in str(notes) and "internal" not in str(notes)
    with pytest.raises(CaseError, match="already closed"):
        change(case, "closed", resolution="fixed", public_note="x")
        change(case, "closed", resolution="fixed", public_note="x")
    assert s.scalar(select(func.count()).select_from(CaseEvent)) >= 4
