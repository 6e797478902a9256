"""The public case page /c/<number>-<token> through the Flask test client on a real SQLite store.

No Rasa: the app understands through the fake NLU; every case is filed and changed through the
same service functions the bot and the console use.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from cases.admin_models import User
from cases.case_page import record_staff_view
from cases.lifecycle import Change, reopen, update_case
from cases.models import Case, CaseEvent, CaseView
from cases.service import create_case
from cases.users import create_user
from tests.console_helpers import add_staff, sign_in
from tests.fakes import FakeNLU

SERVICES = {
    "PD-NOISE": ("Noise Complaint", "Police Department"),
    "PW-POTHOLE": ("Pothole", "Department of Public Works"),
}


@pytest.fixture
def app(settings):
    app = create_app(replace(settings, secret_key="page-tests"), nlu=FakeNLU())
    app.config.update(TESTING=True)
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def rt(app):
    return app.extensions["civicline"]


@pytest.fixture
def client(app):
    return app.test_client()


def file(rt, address: str, *, code: str = "PW-POTHOLE", language: str = "en", **extra) -> Case:
    name, agency = SERVICES[code]
    with rt.Session() as s, s.begin():
        case = create_case(
            db_session=s,
            service_code=code,
            service_name=name,
            agency_responsible=agency,
            description="it is deep",
            source="sms",
            address=address,
            contact_phone=extra.pop("contact_phone", "+15550100001"),
            expected_days=3,
            language=language,
            **extra,
        )
    return case


def change(rt, case: Case, status: str, **fields) -> None:
    with rt.Session() as s, s.begin():
        staff = s.scalars(select(User).where(User.username == "crew")).first()
        if staff is None:
            staff = create_user(db_session=s, username="crew", password="x" * 12, role="admin")
        update_case(
            db_session=s,
            case=s.get(Case, case.id),
            change=Change(status, **fields),
            actor=staff,
            wording=rt.bot.wording,
            policy=rt.catalog.policy,
        )


def path(case: Case) -> str:
    return f"/c/{case.service_request_id}-{case.public_token}"


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str]

    def text(self, element_id: str) -> str:
        """The text of the element with this id (tags dropped, whitespace folded)."""
        match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|dd|section|ol)>', self.html, re.S)
        assert match, f"no #{element_id} on the page"
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())

    def timeline(self) -> list[str]:
        block = re.search(r'<ol class="timeline">(.*?)</ol>', self.html, re.S).group(1)
        return [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split())
            for item in re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)
        ]


def get(client, url: str) -> Page:
    resp = client.get(url)
    return Page(resp.status_code, resp.get_data(as_text=True), dict(resp.headers))


# ------------------------------------------------------------------ what the page shows


def test_the_page_shows_service_block_place_status_and_the_timeline_in_order(rt, client):
    case = file(rt, "123 Elm Street, Apt 4", code="PD-NOISE")
    change(rt, case, "assigned", assigned_to="Patrol Unit 7")
    change(rt, case, "in_progress", public_note="An officer is on the way.")
    change(rt, case, "closed", resolution="referred", public_note="Call the landlord line.",
           referred_to="Riverton Housing", referred_phone="(555) 010-2000")  # fmt: skip
    page = get(client, path(case))
    assert page.status == 200
    assert page.text("service") == "Noise Complaint (Police Department)"
    assert page.text("place") == "100 block of Elm Street"
    assert "123 Elm" not in page.html and "Apt 4" not in page.html
    assert page.text("status") == "Status Closed (referred to Riverton Housing, (555) 010-2000)"
    assert page.text("note") == "Latest note from the city Call the landlord line."
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", page.text("filed"))
    assert page.text("expected")
    entries = page.timeline()
    assert len(entries) == 4
    assert entries[0].endswith("Received")
    assert entries[1].endswith("Assigned to Patrol Unit 7")
    assert entries[2].endswith("In progress An officer is on the way.")
    assert entries[3].endswith(
        "Closed (referred to Riverton Housing, (555) 010-2000) Call the landlord line."
    )
    assert "<script" not in page.html.lower()


def test_a_service_that_is_not_sensitive_shows_the_full_street(rt, client):
    case = file(rt, "120 Elm Street")
    page = get(client, path(case))
    assert page.text("place") == "120 Elm Street"
    assert page.text("service") == "Pothole (Department of Public Works)"
    assert page.text("status") == "Status Received"


def test_a_reopened_case_keeps_its_earlier_closing_in_the_timeline(rt, client):
    case = file(rt, "9 Oak Ave")
    change(rt, case, "closed", resolution="fixed", public_note="Filled.")
    with rt.Session() as s, s.begin():
        reopen(db_session=s, case=s.get(Case, case.id), actor="resident", notes="not fixed")
    page = get(client, path(case))
    assert [e.split(" ", 3)[-1] for e in page.timeline()] == [
        "Received",
        "Closed (fixed) Filled.",
        "Reopened",
    ]
    assert page.text("status") == "Status Reopened"


def test_other_reports_of_the_same_problem_are_counted_without_their_pages(rt, client):
    original = file(rt, "120 Elm Street", contact_phone="+15550100001")
    first = file(rt, "120 Elm Street", contact_phone="+15550100002")
    second = file(rt, "120 Elm Street", contact_phone="+15550100003")
    alone = file(rt, "7 Birch Road")
    assert first.duplicate_of == second.duplicate_of == original.id  # linked when filed

    page = get(client, path(original))
    assert page.text("others") == "2 other residents reported the same problem."
    assert 'id="linked"' not in page.html
    linked = get(client, path(first))
    assert linked.text("others") == "2 other residents reported the same problem."
    assert "linked to a report of the same problem" in linked.text("linked")
    for other in (original, second):  # never a way to another resident's page
        assert other.public_token not in linked.html
    assert "/c/" not in linked.html.replace("/c/static/", "")
    lonely = get(client, path(alone))
    assert 'id="others"' not in lonely.html and 'id="linked"' not in lonely.html

    # closing one report as a duplicate of another links it too
    change(rt, alone, "closed", resolution="duplicate", duplicate_of=original.service_request_id,
           public_note="Same pothole as another report.")  # fmt: skip
    assert get(client, path(original)).text("others") == (
        "3 other residents reported the same problem."
    )
    closed = get(client, path(alone))
    assert closed.text("status") == (
        f"Status Closed (the same problem as case {original.service_request_id})"
    )
    assert original.public_token not in closed.html


def test_one_other_report_is_said_in_the_singular(rt, client):
    original = file(rt, "120 Elm Street")
    file(rt, "120 Elm Street", contact_phone="+15550100002")
    assert get(client, path(original)).text("others") == (
        "1 other resident reported the same problem."
    )


# ------------------------------------------------------------------ who may open it


def test_a_wrong_or_missing_token_or_an_unknown_number_is_the_same_404(rt, client):
    case = file(rt, "120 Elm Street")
    token = case.public_token
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    urls = [f"/c/{case.service_request_id}-{wrong}"]
    if token.swapcase() != token:
        urls.append(f"/c/{case.service_request_id}-{token.swapcase()}")
    bodies = set()
    for url in (
        *urls,
        f"/c/{case.service_request_id}-",
        f"/c/{case.service_request_id}",
        f"/c/311-999999-{token}",
        f"/c/{case.service_request_id}-{token}x",
        f"/c/-{token}",
    ):
        page = get(client, url)
        assert page.status == 404, url
        assert page.headers["Cache-Control"] == "no-store"
        assert "noindex" in page.headers["X-Robots-Tag"]
        bodies.add(page.html)
    assert len(bodies) == 1  # nothing tells an unknown number from a wrong token
    [body] = bodies
    assert "Page not found" in body
    for leak in (case.service_request_id, "Pothole", "Elm", token):
        assert leak not in body
    assert get(client, path(case)).status == 200


def test_headers_keep_the_link_private_and_allow_no_script(rt, client):
    page = get(client, path(file(rt, "120 Elm Street")))
    headers = page.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in headers["X-Robots-Tag"]
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    css = client.get("/c/static/page.css")
    assert css.status_code == 200 and css.content_type.startswith("text/css")
    assert "<script" not in page.html and " style=" not in page.html  # CSP-clean markup


def test_the_page_is_rate_limited_per_address(settings):
    app = create_app(
        replace(settings, rate_limits=True, public_rate_limit="3/minute"), nlu=FakeNLU()
    )
    try:
        client = app.test_client()
        codes = [client.get("/c/311-000001-abcdef").status_code for _ in range(5)]
        assert codes == [404, 404, 404, 429, 429]
    finally:
        app.extensions["civicline"].db.dispose()


def test_the_webhook_pool_does_not_serve_case_pages(settings):
    app = create_app(replace(settings, role="webhooks"), nlu=FakeNLU())
    try:
        assert "public" not in app.blueprints
    finally:
        app.extensions["civicline"].db.dispose()


# ------------------------------------------------------------------ language


def test_a_spanish_case_gets_a_spanish_page_and_lang_switches(rt, client):
    case = file(rt, "120 Elm Street", language="es")
    change(rt, case, "closed", resolution="fixed", public_note="Listo.")
    page = get(client, path(case))
    assert '<html lang="es">' in page.html
    assert page.text("service") == "Bache (Department of Public Works)"
    assert page.text("status") == "Estado Cerrado (resuelto)"
    assert "Historial" in page.html and "History" not in page.html
    assert re.fullmatch(r"\d{1,2} [a-z]{3} \d{4}", page.text("filed"))
    assert 'href="?lang=en"' in page.html

    english = get(client, path(case) + "?lang=en")
    assert '<html lang="en">' in english.html
    assert english.text("status") == "Status Closed (fixed)"
    assert english.text("service") == "Pothole (Department of Public Works)"
    assert 'href="?lang=es"' in english.html
    assert get(client, path(case) + "?lang=xx").text("status") == "Estado Cerrado (resuelto)"
    assert get(client, path(file(rt, "5 Oak Ave")) + "?lang=es").text("status") == (
        "Estado Recibido"
    )


# ------------------------------------------------------------------ privacy

NAME, PHONE, EMAIL = "Ana Ruiz", "555-867-5309", "ana.ruiz@example.com"


def test_no_name_phone_email_words_notes_or_sensitive_house_number_on_the_page(rt, client):
    case = file(
        rt,
        "48 Maple Ave Apt 3",
        code="PD-NOISE",
        contact_phone="+15558675309",
        contact_name=NAME,
        contact_email=EMAIL,
    )
    change(rt, case, "assigned", assigned_to="Patrol Unit 7",
           notes="Tenant says the landlord knows.")  # fmt: skip
    change(rt, case, "closed", resolution="fixed", public_note="Officer spoke to the neighbours.")
    with rt.Session() as s, s.begin():
        stored = s.get(Case, case.id)
        # planted after redaction, as if it had slipped through: the page must still not show it
        stored.description = f"my name is {NAME}, call {PHONE} or {EMAIL}; it is at 48 Maple"
        stored.internal_notes = f"Internal: {NAME} {PHONE} secret-internal-note"
        s.add(CaseEvent(case_id=case.id, kind="note", notes=f"Called {NAME} at {PHONE}"))
    for url in (path(case), path(case) + "?lang=es"):
        page = get(client, url)
        assert page.status == 200 and "Officer spoke to the neighbours." in page.html
        text = html.unescape(page.html)
        digits = re.sub(r"\D", "", text)
        for planted in (NAME, "Ana", "Ruiz", EMAIL, "example.com", "48 Maple", "Apt 3"):
            assert planted not in text, planted
        for planted in ("8675309", "5558675309"):
            assert planted not in digits, planted
        for words in ("my name is", "landlord knows", "secret-internal-note", "it is deep"):
            assert words not in text, words
        assert "block of Maple Ave" in text


# ------------------------------------------------------------------ photos


def test_approved_photos_are_shown_with_before_and_after_labels(rt, client, monkeypatch):
    @dataclass
    class Photo:
        kind: str
        url: str
        thumbnail_url: str
        width: int = 800
        height: int = 600

    case = file(rt, "120 Elm Street")
    assert 'id="photos"' not in get(client, path(case)).html  # none approved yet
    monkeypatch.setattr(
        "cases.case_page.public_photos",
        lambda db_session, case: [
            Photo("before", "/media/b1.jpg", "/media/b1-thumb.jpg"),
            Photo("after", "/media/a1.jpg", "/media/a1-thumb.jpg"),
        ],
    )
    page = get(client, path(case))
    figures = re.findall(r"<figure>(.*?)</figure>", page.html, re.S)
    assert len(figures) == 2
    assert '<a href="/media/b1.jpg"><img src="/media/b1-thumb.jpg"' in figures[0]
    assert "<figcaption>Before</figcaption>" in figures[0]
    assert "<figcaption>After</figcaption>" in figures[1]
    spanish = get(client, path(case) + "?lang=es")
    assert "<figcaption>Antes</figcaption>" in spanish.html
    assert "<figcaption>Después</figcaption>" in spanish.html


# ------------------------------------------------------------------ who looked at my data


def test_staff_views_are_counted_not_named(rt, client, app):
    add_staff(rt)
    case = file(rt, "120 Elm Street")
    page = get(client, path(case))
    assert page.text("views-summary") == "No staff member has opened this case yet."
    for username in ("sam", "ada"):
        staff = app.test_client()
        assert sign_in(staff, username).status_code == 302
        for _ in range(2):  # twice within the hour: one view
            assert staff.get(f"/console/cases/{case.service_request_id}").status_code == 200
    with rt.Session() as s:
        assert s.scalar(select(func.count()).select_from(CaseView)) == 2
    page = get(client, path(case))
    summary = page.text("views-summary")
    assert re.fullmatch(
        r"Viewed by 2 staff members; last on [A-Z][a-z]{2} \d{1,2}, \d{4}\.", summary
    )
    assert len(re.findall(r"<ul class=\"days\">.*?</ul>", page.html, re.S)) == 1
    for who in ("sam", "ada", "Sam Supervisor", "Ada Admin"):
        assert who not in page.html
    spanish = get(client, path(case) + "?lang=es")
    assert spanish.text("views-summary").startswith("Visto por 2 empleados; la última vez el")


def test_one_view_per_member_of_staff_per_hour_and_the_days_listed(rt, client):
    case = file(rt, "120 Elm Street")
    now = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    earlier = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with rt.Session() as s, s.begin():
        staff = create_user(db_session=s, username="lee", password="x" * 12, role="supervisor")
        stored = s.get(Case, case.id)
        assert record_staff_view(db_session=s, case=stored, user_id=staff.id, now=earlier)
        assert not record_staff_view(
            db_session=s, case=stored, user_id=staff.id, now=earlier + timedelta(minutes=59)
        )
        assert record_staff_view(
            db_session=s, case=stored, user_id=staff.id, now=earlier + timedelta(minutes=61)
        )
        assert record_staff_view(db_session=s, case=stored, user_id=staff.id, now=now)
    page = get(client, path(case))
    assert page.text("views-summary") == "Viewed by 1 staff member; last on Nov 5, 2026."
    listed = re.search(r'<ul class="days">(.*?)</ul>', page.html, re.S).group(1)
    days = re.findall(r"<li>([^<]+)</li>", listed)
    assert days == ["Nov 5, 2026", "Nov 2, 2026"]  # newest first, one per day
