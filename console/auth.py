"""Sign in and out."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for

from cases.audit import record
from cases.staff_sessions import end_session, start_session
from cases.users import RateLimited, authenticate
from console.blueprint import bp, csrf_token, runtime, safe_next


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; throttled with backoff per user name and address (cases.login_limits)."""
    if request.method == "GET":
        if g.user is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    ip = request.remote_addr or ""  # a trusted proxy's X-Forwarded-For, via ProxyFix
    with runtime().Session() as db_session, db_session.begin():
        try:
            user = authenticate(
                db_session=db_session,
                username=username,
                password=request.form.get("password", ""),
                ip=ip,
            )
        except RateLimited as exc:
            page = render_template("login.html", error=str(exc), next="")
            return page, 429, {"Retry-After": str(exc.retry_after)}
        if user is not None:
            record(
                db_session=db_session,
                actor=user,
                action="auth.login",
                target_type="user",
                target_id=user.id,
                detail={"ip": ip},
            )
            if session.get("sid"):  # signing in again: the browser's old session ends
                end_session(db_session=db_session, token=str(session["sid"]), reason="replaced")
            token = start_session(db_session=db_session, user=user, ip=ip)
    if user is None:
        return render_template(
            "login.html", error="Wrong user name or password.", next=request.form.get("next", "")
        ), 401
    session.clear()
    session.permanent = True
    session["sid"] = token
    csrf_token()
    flash(f"Signed in as {user.display_name}.")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    """Sign out: the session ends in the store, so a copy of this cookie stops working too."""
    if g.user is not None:
        with runtime().Session() as db_session, db_session.begin():
            end_session(db_session=db_session, token=str(session.get("sid", "")))
            record(
                db_session=db_session,
                actor=g.user,
                action="auth.logout",
                target_type="user",
                target_id=g.user.id,
            )
    session.clear()
    return redirect(url_for("console.login"))
