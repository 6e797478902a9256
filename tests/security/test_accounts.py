"""Console accounts under attack: forged addresses, lockouts, stolen cookies, redirects, headers.

The two gunicorn tests run the real server with 2 workers; /healthz needs a Rasa server, so they
get a stand-in that answers /status (the console never parses text), not the 1 GB real one.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app import create_app
from cases.admin_models import AppSecret, AuditEntry, LoginAttempt, User
from cases.app_secrets import shared_secret
from cases.models import Conversation, utcnow
from cases.nlu_models import ModelVersion
from cases.users import RateLimited, authenticate, create_user
from tests.conftest import AUTH_TOKEN
from tests.console_helpers import PASSWORD, add_staff, csrf, sign_in, text
from tests.fakes import FakeNLU
from tests.integration.conftest import gunicorn, sign, sms_form
from tests.rasa_standin import RasaStandIn

ATTACKER, OFFICE, HOME = "203.0.113.66", "198.51.100.20", "192.0.2.44"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def rasa_standin():
    standin = RasaStandIn()
    yield standin
    standin.close()


def make_app(settings, **changes):
    app = create_app(replace(settings, **changes), nlu=FakeNLU())
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def app(settings):
    app = make_app(settings, secret_key="test-secret")
    add_staff(app.extensions["civicline"])
    yield app
    app.extensions["civicline"].db.dispose()


@pytest.fixture
def runtime(app):
    return app.extensions["civicline"]


def client_at(app, address: str = OFFICE):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(app, username: str, address: str = OFFICE, password: str = PASSWORD):
    client = client_at(app, address)
    assert sign_in(client, username, password).status_code == 302
    return client


def copy_of(app, client):
    thief = client_at(app, ATTACKER)
    thief.set_cookie("civicline_session", client.get_cookie("civicline_session").value)
    return thief


def audit(runtime) -> list[AuditEntry]:
    with runtime.Session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def post_form(client, path: str, page: str | None = None, **data: str):
    return client.post(path, data={"csrf_token": csrf(client, page or path), **data})


# 1. X-Forwarded-For is believed only from configured proxies ---------------------------------


def test_forged_forwarded_for_through_gunicorn_neither_dodges_the_limit_nor_the_log(
    database_url, db_session, rasa_standin, monkeypatch
):
    monkeypatch.setenv("CIVICLINE_SECRET_KEY", "test-secret")
    monkeypatch.delenv("CIVICLINE_TRUSTED_PROXIES", raising=False)
    # the per-process flask-limiter (tests/security/test_limits.py) would answer 429 first
    monkeypatch.setenv("CIVICLINE_LOGIN_RATE_LIMIT", "1000/minute")
    with db_session.begin():
        create_user(db_session=db_session, username="ada", password=PASSWORD, role="admin")
    with gunicorn(database_url, rasa_standin, AUTH_TOKEN) as base:

        def attempt(username: str, password: str, forged: str) -> int:
            web = requests.Session()
            token = re.search(
                r'name="csrf_token" value="([^"]+)"', web.get(base + "/console/login").text
            )
            return web.post(
                base + "/console/login",
                data={"username": username, "password": password, "csrf_token": token.group(1)},
                headers={"X-Forwarded-For": forged},
                allow_redirects=False,
            ).status_code

        assert attempt("ada", PASSWORD, "6.6.6.6") == 302
        statuses = [attempt(f"guess{n}", "wrong password", f"10.9.8.{n}") for n in range(22)]
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]
    db_session.expire_all()
    login = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).one()
    assert login.detail["ip"] == "127.0.0.1"
    assert set(db_session.scalars(select(LoginAttempt.ip))) == {"127.0.0.1"}


def test_forwarded_for_is_believed_from_configured_proxies_only(settings):
    direct = make_app(settings, secret_key="s")
    add_staff(direct.extensions["civicline"])
    proxied = make_app(settings, secret_key="s", trusted_proxies=1)
    for app in (direct, proxied):
        client = client_at(app, "10.0.0.2")
        token = csrf(client)
        client.post(
            "/console/login",
            data={"username": "sam", "password": PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.9"},
        )
    ips = [e.detail["ip"] for e in audit(direct.extensions["civicline"])]
    assert ips == ["10.0.0.2", "198.51.100.9"]  # the proxy's own entry, not the forged first one


@pytest.mark.parametrize(("proxies", "status"), [(0, 403), (1, 200)])
def test_webhook_scheme_comes_from_a_trusted_proxy_only(settings, proxies, status):
    app = make_app(settings, public_url="http://311.riverton.example.gov", trusted_proxies=proxies)
    form = sms_form("hello", "+15550100002", "SM" + "b" * 32)
    signature = sign("https://311.riverton.example.gov/twilio/sms", form)
    resp = app.test_client().post(
        "/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"},
    )
    assert resp.status_code == status


# 2. Lockouts back off per (user, address); nobody else can keep an account locked ------------


def test_an_attacker_cannot_keep_admin_locked_out(app):
    attacker = client_at(app, ATTACKER)
    statuses = [sign_in(attacker, "ada", "not the password").status_code for _ in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert sign_in(attacker, "ada").status_code == 429  # the attacker's own pair backs off
    assert sign_in(client_at(app, OFFICE), "ada").status_code == 302


def test_guessing_from_many_addresses_slows_down_but_never_blocks_a_fresh_address(app):
    for n in range(30):
        assert sign_in(client_at(app, f"10.66.0.{n}"), "ada", "guess").status_code == 401
    # under attack, an address gets one free failure, then must wait
    assert sign_in(client_at(app, "10.66.0.1"), "ada", "guess").status_code == 429
    assert sign_in(client_at(app, HOME), "ada").status_code == 302


def test_backoff_doubles_and_expires(db_session):
    with db_session.begin():
        create_user(db_session=db_session, username="ada", password=PASSWORD, role="admin")
    now = utcnow()

    def attempt(at, password="wrong password", ip=ATTACKER):
        with db_session.begin():
            return authenticate(
                db_session=db_session, username="ada", password=password, ip=ip, now=at
            )

    for n in range(5):
        assert attempt(now + timedelta(seconds=n)) is None
    with pytest.raises(RateLimited) as first:
        attempt(now + timedelta(seconds=5))
    assert 20 <= first.value.retry_after <= 30
    assert attempt(now + timedelta(seconds=40)) is None  # waited: checked (and wrong again)
    with pytest.raises(RateLimited) as second:
        attempt(now + timedelta(seconds=41))
    assert 50 <= second.value.retry_after <= 60  # the wait doubled
    assert attempt(now + timedelta(seconds=101), PASSWORD) is not None
    assert attempt(now + timedelta(seconds=102)) is None  # a success resets the pair


# 3. Sessions end on the server ----------------------------------------------------------------


def test_a_copied_cookie_stops_working_after_logout(app, runtime):
    sam = signed_in(app, "sam")
    thief = copy_of(app, sam)
    assert thief.get("/console/").status_code == 200
    assert post_form(sam, "/console/logout", "/console/").status_code == 302
    assert thief.get("/console/").status_code == 302
    assert sam.get("/console/").status_code == 302
    assert signed_in(app, "sam").get("/console/").status_code == 200


def test_signing_in_again_ends_the_browsers_previous_session(app):
    sam = signed_in(app, "sam")
    thief = copy_of(app, sam)
    again = post_form(sam, "/console/login", "/console/", username="sam", password=PASSWORD)
    assert again.status_code == 302
    assert thief.get("/console/").status_code == 302
    assert sam.get("/console/").status_code == 200


# 4. Disable, enable, reset, role: console and CLI, audited -------------------------------------


def test_admin_disables_and_enables_a_supervisor(app, runtime):
    ada, sam = signed_in(app, "ada"), signed_in(app, "sam")
    page = "/console/admin/users"
    assert post_form(ada, "/console/admin/users/sam", page, action="disable").status_code == 302
    assert sam.get("/console/").status_code == 302
    assert sign_in(client_at(app, HOME), "sam").status_code == 401
    assert "disabled" in ada.get(page).get_data(as_text=True)
    assert post_form(ada, "/console/admin/users/sam", page, action="enable").status_code == 302
    assert sign_in(client_at(app, HOME), "sam").status_code == 302
    actions = [(e.action, e.target_id, e.actor_name) for e in audit(runtime)]
    assert ("user.disable", "sam", "ada") in actions and ("user.enable", "sam", "ada") in actions


def test_admin_resets_a_password_and_changes_a_role(app, runtime):
    ada, sam = signed_in(app, "ada"), signed_in(app, "sam")
    page = "/console/admin/users"
    post_form(ada, "/console/admin/users/sam", page, action="reset", password=NEW_PASSWORD)
    assert sam.get("/console/").status_code == 302
    sam = signed_in(app, "sam", password=NEW_PASSWORD)
    post_form(ada, "/console/admin/users/sam", page, action="role", role="admin")
    assert sam.get("/console/").status_code == 302
    assert signed_in(app, "sam", password=NEW_PASSWORD).get(page).status_code == 200
    actions = [e.action for e in audit(runtime)]
    assert "user.password_reset" in actions and "user.role" in actions
    assert all(NEW_PASSWORD not in json.dumps(e.detail) for e in audit(runtime))


def test_the_last_admin_cannot_be_disabled_or_demoted_and_supervisors_cannot_manage(app, runtime):
    ada, sam = signed_in(app, "ada"), signed_in(app, "sam")
    page = "/console/admin/users"
    post_form(ada, "/console/admin/users/ada", page, action="disable")
    post_form(ada, "/console/admin/users/ada", page, action="role", role="supervisor")
    assert ada.get(page).status_code == 200
    token = csrf(sam, "/console/")
    resp = sam.post("/console/admin/users/ada", data={"csrf_token": token, "action": "disable"})
    assert resp.status_code == 403
    with runtime.Session() as s:
        user = s.scalars(select(User).where(User.username == "ada")).one()
    assert user.disabled_at is None and user.role == "admin"


def test_cli_disables_enables_resets_and_changes_roles(app, runtime):
    cli = app.test_cli_runner()
    sam = signed_in(app, "sam")
    assert cli.invoke(args=["console", "disable-user", "sam"]).exit_code == 0
    assert sam.get("/console/").status_code == 302
    assert sign_in(client_at(app, HOME), "sam").status_code == 401
    assert cli.invoke(args=["console", "enable-user", "sam"]).exit_code == 0
    result = cli.invoke(args=["console", "set-password", "sam", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert cli.invoke(args=["console", "set-role", "sam", "--role", "admin"]).exit_code == 0
    assert cli.invoke(args=["console", "disable-user", "nobody"]).exit_code != 0
    assert signed_in(app, "sam", HOME, NEW_PASSWORD).get("/console/admin/users").status_code == 200
    actions = [(e.action, e.detail.get("via")) for e in audit(runtime)]
    for action in ("user.disable", "user.enable", "user.password_reset", "user.role"):
        assert (action, "cli") in actions


def test_changing_my_password_ends_my_other_sessions(app, runtime):
    laptop, phone = signed_in(app, "sam"), signed_in(app, "sam", HOME)
    resp = post_form(
        laptop, "/console/account", current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    assert resp.status_code == 302
    assert laptop.get("/console/").status_code == 200
    assert phone.get("/console/").status_code == 302
    assert sign_in(client_at(app, HOME), "sam", PASSWORD).status_code == 401
    assert sign_in(client_at(app, HOME), "sam", NEW_PASSWORD).status_code == 302
    for _ in range(5):
        wrong = post_form(
            laptop, "/console/account", current_password="nope", new_password="x" * 12
        )
        assert wrong.status_code == 400
    # guessing the current password through a borrowed session is throttled like sign-ins
    assert (
        post_form(
            laptop, "/console/account", current_password="nope", new_password="x" * 12
        ).status_code
        == 429
    )
    assert [e.action for e in audit(runtime)].count("user.password_change") == 1


# 5. Security headers --------------------------------------------------------------------------


def test_security_headers_on_every_response(app, runtime):
    ada = signed_in(app, "ada")
    login = client_at(app).get("/console/login")
    key_page = post_form(ada, "/console/admin/api-keys", name="crm")
    assert "cl_" in key_page.get_data(as_text=True)
    twiml = app.test_client().post("/twilio/sms", data={})
    for resp in (login, key_page, twiml, ada.get("/console/")):
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"]
        assert "Strict-Transport-Security" not in resp.headers  # plain http
    for resp in (login, key_page):
        assert "no-store" in resp.headers["Cache-Control"]


def test_hsts_only_over_https_as_a_trusted_proxy_reports_it(settings):
    proxied, direct = make_app(settings, trusted_proxies=1), make_app(settings)
    forwarded = {"X-Forwarded-Proto": "https"}
    hsts = proxied.test_client().get("/console/login", headers=forwarded).headers
    assert "max-age=" in hsts["Strict-Transport-Security"]
    assert (
        "Strict-Transport-Security"
        not in direct.test_client().get("/console/login", headers=forwarded).headers
    )
    https = direct.test_client().get("/console/login", base_url="https://localhost")
    assert "Strict-Transport-Security" in https.headers


def test_console_pages_have_no_inline_scripts_or_styles(app, runtime):
    text(runtime, "pothole at 5 elm st", sender="+15550100801")
    number = text(runtime, "yes", sender="+15550100801").case_number
    with runtime.Session() as s, s.begin():
        scores = {"greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0}}
        version = ModelVersion(created_by="ada", status="training", report={"per_intent": scores})
        s.add(version)
        s.flush()
        version_id = version.id
        conversation_id = s.scalars(select(Conversation.id)).first()
    ada = signed_in(app, "ada")
    pages = [
        "/console/",
        "/console/conversations",
        f"/console/conversations/{conversation_id}",
        "/console/handoffs",
        "/console/cases",
        f"/console/cases/{number}",
        "/console/account",
        "/console/admin/users",
        "/console/admin/api-keys",
        "/console/admin/audit",
        "/console/admin/models",
        f"/console/admin/models/{version_id}",
    ]
    for path in pages:
        html = ada.get(path).get_data(as_text=True)
        assert ada.get(path).status_code == 200, path
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), path
    assert ada.get("/console/static/model_progress.js").status_code == 200


# 6. One secret key for every worker -----------------------------------------------------------


def test_without_a_secret_key_every_worker_signs_with_the_same_one(
    database_url, db_session, rasa_standin, monkeypatch
):
    monkeypatch.setenv("CIVICLINE_SECRET_KEY", "")
    with db_session.begin():
        create_user(db_session=db_session, username="sam", password=PASSWORD, role="supervisor")
    with gunicorn(database_url, rasa_standin, AUTH_TOKEN) as base:
        web = requests.Session()
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', web.get(base + "/console/login").text
        )
        resp = web.post(
            base + "/console/login",
            data={"username": "sam", "password": PASSWORD, "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert resp.status_code == 302
        statuses = [
            web.get(base + "/console/", allow_redirects=False).status_code for _ in range(40)
        ]
    assert statuses == [200] * 40


def test_apps_without_a_secret_key_share_the_stored_one(settings):
    first, second = make_app(settings), make_app(settings)
    add_staff(first.extensions["civicline"])
    client = signed_in(first, "sam")
    assert copy_of(second, client).get("/console/").status_code == 200
    assert first.secret_key and first.secret_key == second.secret_key
    assert make_app(settings, secret_key="from-env").secret_key == "from-env"


def test_a_worker_that_loses_the_insert_race_reads_the_winners_key(settings):
    sessions = make_app(settings).extensions["civicline"].Session

    def meanwhile_another_worker_inserts() -> str:
        with sessions() as other, other.begin():
            other.add(AppSecret(name="race", value="the winner's key"))
        return "the loser's key"

    key = shared_secret(sessions=sessions, name="race", make=meanwhile_another_worker_inserts)
    assert key == "the winner's key"
    assert shared_secret(sessions=sessions, name="race") == "the winner's key"


def test_rotating_the_stored_key_signs_everyone_out(settings):
    app = make_app(settings)
    add_staff(app.extensions["civicline"])
    sam = signed_in(app, "sam")
    old = app.secret_key
    result = app.test_cli_runner().invoke(args=["console", "rotate-secret-key"])
    assert result.exit_code == 0 and "restart" in result.output
    assert sam.get("/console/").status_code == 302
    restarted = make_app(settings)
    signed_in(restarted, "sam")
    assert restarted.secret_key != old


# 7. Redirects after sign-in stay on this site -------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "//evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "///evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        " /\\evil.example",
        "/\x00/evil.example",
        "evil.example",
    ],
)
def test_hostile_next_targets_go_to_the_dashboard(app, target):
    client = client_at(app)
    token = csrf(client)
    resp = client.post(
        "/console/login",
        data={"username": "sam", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/"


@pytest.mark.parametrize("target", ["/console/cases?status=open", "/console/conversations/3"])
def test_local_next_targets_are_kept(app, target):
    client = client_at(app)
    token = csrf(client)
    resp = client.post(
        "/console/login",
        data={"username": "sam", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert resp.headers["Location"] == target
