"""The console's views and permissions over HTTP (Flask test client, real database)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from cases.admin_models import AuditEntry
from cases.models import Case, Conversation, OutboundMessage, Turn
from cases.nlu_models import TrainingCandidate
from tests.console_helpers import PASSWORD, add_staff, csrf, sign_in, text
from tests.fakes import FakeNLU


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    add_staff(app.extensions["civicline"])
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def runtime(app):
    return app.extensions["civicline"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sam(app):
    client = app.test_client()
    assert sign_in(client, "sam").status_code == 302
    return client


@pytest.fixture
def ada(app):
    client = app.test_client()
    assert sign_in(client, "ada").status_code == 302
    return client


def audit(runtime) -> list[str]:
    with runtime.Session() as s:
        return [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


PAGES = ["/console/", "/console/conversations", "/console/handoffs", "/console/cases"]
ADMIN = ["/console/admin/users", "/console/admin/api-keys", "/console/admin/audit"]


@pytest.mark.parametrize("path", PAGES + ADMIN)
def test_anonymous_users_are_sent_to_sign_in(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


@pytest.mark.parametrize("path", ADMIN)
def test_supervisors_cannot_reach_admin_pages(sam, ada, path):
    assert sam.get(path).status_code == 403
    assert ada.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_supervisors(sam, path):
    resp = sam.get(path)
    assert resp.status_code == 200 and "Sam Supervisor" in resp.get_data(as_text=True)


def test_wrong_password_and_rate_limit(client, runtime):
    assert sign_in(client, "sam", "wrong password!").status_code == 401
    for _ in range(4):
        sign_in(client, "sam", "wrong password!")
    resp = sign_in(client, "sam", PASSWORD)
    assert resp.status_code == 429 and "too many" in resp.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client):
    resp = sign_in(client, "sam")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forged_or_missing_csrf_is_rejected(sam, runtime):
    text(runtime, "i want to talk to a person")
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation)).one()
    for token in ("", "forged-token"):
        resp = sam.post(f"/console/handoffs/{conv.id}/take", data={"csrf_token": token})
        assert resp.status_code == 400
    with runtime.Session() as s:
        assert s.get(Conversation, conv.id).handoff_status == "waiting"


def test_login_redirects_only_to_local_pages(client):
    token = csrf(client)
    resp = client.post(
        "/console/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert resp.headers["Location"].endswith("/console/")


def test_conversation_filters_and_search(sam, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100301")
    text(runtime, "when is trash pickup", sender="+15550100302")
    text(runtime, "asdf qwerty", sender="+15550100303")
    page = sam.get("/console/conversations?q=trash").get_data(as_text=True)
    assert "when is trash pickup" in page and "pothole at 5 elm st" not in page
    page = sam.get("/console/conversations?intent=pothole").get_data(as_text=True)
    assert "pothole at 5 elm st" in page and "when is trash pickup" not in page
    page = sam.get("/console/conversations?channel=voice").get_data(as_text=True)
    assert "No conversations match" in page
    page = sam.get("/console/conversations?q=100%25").get_data(as_text=True)
    assert "No conversations match" in page  # LIKE wildcards are escaped


def test_phone_numbers_are_masked_for_supervisors_not_admins(sam, ada, runtime):
    text(runtime, "hello", sender="+15550109876")
    assert "+15550109876" not in sam.get("/console/conversations").get_data(as_text=True)
    assert "9876" in sam.get("/console/conversations").get_data(as_text=True)
    assert "+15550109876" in ada.get("/console/conversations").get_data(as_text=True)


def test_transcript_shows_intent_confidence_and_reply(sam, runtime):
    text(runtime, "pothole at 5 elm st")
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation)).one()
    page = sam.get(f"/console/conversations/{conv.id}").get_data(as_text=True)
    assert "pothole at 5 elm st" in page and "pothole" in page and "0.93" in page
    assert "Here&#39;s your report" in page or "Here's your report" in page
    assert "top: pothole 0.93, greet 0.04" in page


def test_a_fallback_turn_becomes_a_candidate_with_the_classifiers_guess(ada, runtime):
    text(runtime, "blorp zzz", sender="+15550100902")
    page = ada.get("/console/admin/candidates").get_data(as_text=True)
    assert "blorp zzz" in page
    with runtime.Session() as s:
        candidate = s.scalars(select(TrainingCandidate)).one()
        turn = s.scalars(select(Turn)).one()
    assert turn.intent == "nlu_fallback" and turn.ranking[0]["name"] == "graffiti"
    assert candidate.suggested_intent == "graffiti"


def test_take_reply_and_close_a_handoff(sam, runtime):
    text(runtime, "i want to talk to a person", sender="+15550100400")
    with runtime.Session() as s:
        conv = s.scalars(select(Conversation)).one()
    queue = sam.get("/console/handoffs").get_data(as_text=True)
    assert "requested" in queue and "min" in queue
    path = f"/console/conversations/{conv.id}"
    token = csrf(sam, path)
    assert (
        sam.post(f"/console/handoffs/{conv.id}/take", data={"csrf_token": token}).status_code == 302
    )
    resp = sam.post(
        f"/console/handoffs/{conv.id}/reply",
        data={"csrf_token": token, "text": "Hi, this is Sam from 311. How can I help?"},
    )
    assert resp.status_code == 302
    with runtime.Session() as s:
        [out] = s.scalars(select(OutboundMessage)).all()
        assert (out.to, out.reason, out.conversation_id) == ("+15550100400", "staff_reply", conv.id)
        assert s.get(Conversation, conv.id).handoff_status == "taken"
    assert text(runtime, "my heat is out", sender="+15550100400").kind == "to_staff"
    sam.post(f"/console/handoffs/{conv.id}/close", data={"csrf_token": token})
    with runtime.Session() as s:
        assert s.get(Conversation, conv.id).handoff_status == "closed"
    assert audit(runtime)[-3:] == ["handoff.take", "handoff.reply", "handoff.close"]


def test_closing_a_case_notifies_the_resident(sam, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100500")
    number = text(runtime, "yes", sender="+15550100500").case_number
    page = sam.get(f"/console/cases/{number}").get_data(as_text=True)
    assert "Pothole" in page and "5 Elm Street" in page and "filed" in page
    token = csrf(sam, f"/console/cases/{number}")
    form = {
        "csrf_token": token,
        "status": "closed",
        "public_note": "Filled today.",
        "notes": "Tenant in 4B called twice.",
    }
    refused = sam.post(f"/console/cases/{number}/status", data=form, follow_redirects=True)
    assert "closing needs a resolution" in refused.get_data(as_text=True)
    with runtime.Session() as s:
        assert s.scalars(select(Case)).one().status == "received"
    resp = sam.post(f"/console/cases/{number}/status", data={**form, "resolution": "fixed"})
    assert resp.status_code == 302
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
        out, question = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert case.status == "closed" and case.status_notes == "Filled today."
    assert case.internal_notes == "Tenant in 4B called twice."
    assert out.to == "+15550100500" and number in out.body and "closed (fixed)" in out.body
    assert "Filled today." in out.body and "4B" not in out.body
    # "Was it fixed?" waits for local daytime, at least 2 hours after the closing (settings)
    assert question.reason == "fix_check" and question.to == "+15550100500"
    assert "Was the pothole at 0 block of Elm Street fixed?" in question.body
    assert question.next_attempt_at >= case.closed_datetime + timedelta(hours=2)
    page = sam.get(f"/console/cases/{number}").get_data(as_text=True)
    assert "received → closed: fixed" in page and "Filled today." in page
    assert 'id="fix-checks"' in page and "no answer" in page
    assert "case.status" in audit(runtime)


def test_case_list_filters(sam, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100601")
    text(runtime, "yes", sender="+15550100601")
    assert "5 Elm Street" in sam.get("/console/cases?service=PW-POTHOLE").get_data(as_text=True)
    assert "No cases match" in sam.get("/console/cases?status=closed").get_data(as_text=True)
    assert "5 Elm Street" in sam.get("/console/cases?status=open").get_data(as_text=True)
    assert "5 Elm Street" in sam.get("/console/cases?status=received").get_data(as_text=True)
    assert "No cases match" in sam.get("/console/cases?status=reopened").get_data(as_text=True)
    agency = "Police Department"
    assert "No cases match" in sam.get(f"/console/cases?agency={agency}").get_data(as_text=True)


def test_flagging_a_turn_makes_a_training_candidate(sam, runtime):
    text(runtime, "my garbage wasnt picked up loud noise", sender="+15550100700")
    with runtime.Session() as s:
        turn = s.scalars(select(Turn)).one()
    token = csrf(sam, f"/console/conversations/{turn.conversation_id}")
    sam.post(
        f"/console/turns/{turn.id}/flag", data={"csrf_token": token, "intent": "missed_collection"}
    )
    with runtime.Session() as s:
        candidate = s.scalars(select(TrainingCandidate)).one()
    assert (candidate.predicted_intent, candidate.suggested_intent) == (
        "noise_complaint",
        "missed_collection",
    )
    assert candidate.source == "flagged" and candidate.flagged_by == "sam"
    bad = sam.post(
        f"/console/turns/{turn.id}/flag", data={"csrf_token": token, "intent": "nonsense"}
    )
    assert bad.status_code == 400


def test_dashboard_charts(sam, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100801")
    text(runtime, "yes", sender="+15550100801")
    text(runtime, "i want a person", sender="+15550100802")
    page = sam.get("/console/").get_data(as_text=True)
    assert page.count("<svg") == 7 and "Pothole" in page and "in the handoff queue" in page


def test_admin_adds_users_and_api_keys(ada, sam, runtime):
    token = csrf(ada, "/console/admin/users")
    ada.post(
        "/console/admin/users",
        data={
            "csrf_token": token,
            "username": "max",
            "password": "long enough pw",
            "role": "supervisor",
        },
    )
    assert "max" in ada.get("/console/admin/users").get_data(as_text=True)
    page = ada.post("/console/admin/api-keys", data={"csrf_token": token, "name": "crm"})
    assert re.search(r'id="new-key">cl_', page.get_data(as_text=True))
    assert "user.create" in audit(runtime) and "api_key.create" in audit(runtime)
    assert "api_key.create" in ada.get("/console/admin/audit").get_data(as_text=True)


def test_cli_creates_the_first_admin(settings):
    app = create_app(settings, nlu=FakeNLU())
    result = app.test_cli_runner().invoke(
        args=["console", "create-user", "root", "--role", "admin", "--password", "a long password"]
    )
    assert result.exit_code == 0 and "created root (admin)" in result.output
    client = app.test_client()
    assert sign_in(client, "root", "a long password").status_code == 302


def test_admin_curates_training_candidates(app, ada, sam, runtime):
    from nlu import training_store

    text(runtime, "rats in the alley behind the school", sender="+15550100901")  # fake: ooscope
    text(runtime, "blorp zzz", sender="+15550100902")
    text(runtime, "my garbage wasnt picked up loud noise", sender="+15550100903")
    with runtime.Session() as s:
        flagged = s.scalars(select(Turn).where(Turn.text.like("my garbage%"))).one()
    token = csrf(sam, f"/console/conversations/{flagged.conversation_id}")
    sam.post(
        f"/console/turns/{flagged.id}/flag",
        data={"csrf_token": token, "intent": "missed_collection"},
    )
    page = ada.get("/console/admin/candidates").get_data(as_text=True)
    assert "my garbage wasnt picked up loud noise" in page and "flagged by sam" in page
    with runtime.Session() as s:
        rows = {c.text: c for c in s.scalars(select(TrainingCandidate))}
    assert rows["my garbage wasnt picked up loud noise"].source == "flagged"
    token = csrf(ada, "/console/admin/candidates")
    ada.post(
        "/console/admin/candidates",
        data={
            "csrf_token": token,
            "id": rows["my garbage wasnt picked up loud noise"].id,
            "action": "accept",
            "intent": "missed_collection",
        },
    )
    ada.post(
        "/console/admin/candidates",
        data={"csrf_token": token, "id": rows["blorp zzz"].id, "action": "discard"},
    )
    with runtime.Session() as s, s.begin():
        examples = training_store.examples(db_session=s)
        entries = [e.action for e in s.scalars(select(AuditEntry))]
    assert "my garbage wasnt picked up loud noise" in examples["missed_collection"]
    assert "nlu.example.add" in entries and "candidate.accepted" in entries
    exported = app.test_cli_runner().invoke(args=["nlu", "export"]).output
    assert "    - my garbage wasnt picked up loud noise\n" in exported
    with runtime.Session() as s:
        statuses = {c.text: c.status for c in s.scalars(select(TrainingCandidate))}
    assert statuses["my garbage wasnt picked up loud noise"] == "accepted"
    assert statuses["blorp zzz"] == "discarded"
    assert sam.get("/console/admin/candidates").status_code == 403


def test_case_page_shows_answers_by_their_names(sam, runtime):
    text(runtime, "huge pothole at 5 elm st", sender="+15550100950")
    number = text(runtime, "yes", sender="+15550100950").case_number
    page = sam.get(f"/console/cases/{number}").get_data(as_text=True)
    assert "<dt>Size</dt><dd>Bigger than a tire</dd>" in page


def test_the_dashboard_flags_reopened_cases_and_shows_whether_fixed_was_fixed(sam, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100700")
    number = text(runtime, "yes", sender="+15550100700").case_number
    token = csrf(sam, f"/console/cases/{number}")
    sam.post(
        f"/console/cases/{number}/status",
        data={"csrf_token": token, "status": "closed", "resolution": "fixed", "public_note": "x"},
    )
    token = csrf(sam, f"/console/cases/{number}")
    sam.post(
        f"/console/cases/{number}/status",
        data={"csrf_token": token, "status": "reopened", "notes": "resident called: not fixed"},
    )
    page = sam.get("/console/").get_data(as_text=True)
    flagged = re.search(r'id="reopened-now"><a href="([^"]+)"><strong>(\d+)</strong>', page)
    assert flagged and flagged.group(2) == "1"
    assert flagged.group(1).endswith("/console/cases?status=reopened")
    row = re.search(r'<tr data-service="Pothole">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'class="num[^"]*">([^<]+)<', row)[:3] == ["1", "1", "100%"]
    listed = sam.get(flagged.group(1)).get_data(as_text=True)
    assert number in listed and 'class="badge reopened"' in listed
