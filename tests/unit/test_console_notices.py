"""The console's notices page: admins publish (texting subscribers), edit and end; audited."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app import create_app
from cases import notices
from cases.admin_models import AuditEntry
from cases.models import Case, OptOut, OutboundMessage, utcnow
from cases.notice_models import Notice
from tests.console_helpers import add_staff, csrf, sign_in
from tests.fakes import FakeNLU


@pytest.fixture
def app(settings):
    app = create_app(settings, nlu=FakeNLU())
    app.config.update(TESTING=True)
    add_staff(app.extensions["civicline"])
    yield app
    app.extensions["civicline"].db.dispose()


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def local(runtime, when) -> str:
    return when.astimezone(ZoneInfo(runtime.settings.timezone)).strftime("%Y-%m-%dT%H:%M")


def test_admin_publishes_a_notice_texting_subscribers_and_it_is_audited(app):
    rt = app.extensions["civicline"]
    now = utcnow()
    with rt.Session() as s, s.begin():
        for phone, street in [("+15550109001", "Elm Street"), ("+15550109002", "Elm Street")]:
            notices.subscribe(
                db_session=s,
                phone=phone,
                service_codes=[],
                street=street,
                language="en",
                source_text="ALERTS 1 Elm St",
                now=now,
            )
        s.add(OptOut(phone="+15550109002", keyword="stop", opted_out_at=now))
    ada = signed_in(app, "ada")
    page = ada.post(
        "/console/notices",
        data={
            "csrf_token": csrf(ada, "/console/notices"),
            "text_en": "Elm Street water main repair.",
            "text_es": "Reparación en Elm Street.",
            "streets": "elm st",
            "service_codes": ["WS-LEAK"],
            "starts_at": local(rt, now - timedelta(minutes=5)),
            "ends_at": local(rt, now + timedelta(hours=5)),
            "broadcast": "1",
        },
        follow_redirects=True,
    )
    html = page.get_data(as_text=True)
    assert "Texts queued: 1; skipped (opted out): 1." in html
    assert "Elm Street water main repair." in html
    with rt.Session() as s:
        notice = s.scalars(select(Notice)).one()
        assert notice.streets == ["Elm Street"] and notice.parent_case_id
        assert s.get(Case, notice.parent_case_id).source == "staff"
        [text] = s.scalars(select(OutboundMessage)).all()
        assert text.to == "+15550109001" and "Elm Street water main repair." in text.body
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "notice.publish")).one()
        assert entry.detail["queued"] == 1 and entry.detail["skipped_opted_out"] == 1
    sam = signed_in(app, "sam")  # supervisors read, and may not publish or end
    assert "Elm Street water main repair." in sam.get("/console/notices").get_data(as_text=True)
    token = csrf(sam, "/console/notices")
    assert sam.post("/console/notices", data={"csrf_token": token}).status_code == 403
    ended = ada.post(
        f"/console/notices/{notice.id}",
        data={"csrf_token": csrf(ada, "/console/notices"), "action": "end"},
    )
    assert ended.status_code == 302
    with rt.Session() as s:
        assert s.get(Notice, notice.id).ended_at is not None
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "notice.end")).one()
