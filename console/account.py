"""A member of staff's own account: change the password (ending their other sessions)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for

from cases.audit import record
from cases.users import RateLimited, UserError, change_password
from console.blueprint import bp, login_required, runtime


@bp.route("/account", methods=["GET", "POST"])
@login_required()
def account() -> Any:
    """Change one's own password; every other signed-in browser of this user is signed out."""
    if request.method == "GET":
        return render_template("account.html")
    try:
        with runtime().Session() as db_session, db_session.begin():
            user = change_password(
                db_session=db_session,
                user_id=g.user.id,
                current=request.form.get("current_password", ""),
                new=request.form.get("new_password", ""),
                keep_token=str(session.get("sid", "")),
                ip=request.remote_addr or "",
            )
            if user is not None:
                record(
                    db_session=db_session,
                    actor=g.user,
                    action="user.password_change",
                    target_type="user",
                    target_id=g.user.username,
                    detail={"ip": request.remote_addr or ""},
                )
    except UserError as exc:
        return render_template("account.html", error=str(exc)), 400
    except RateLimited as exc:
        page = render_template("account.html", error=str(exc))
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if user is None:  # the wrong attempt is recorded (committed) for the throttle
        return render_template("account.html", error="The current password is wrong."), 400
    flash("Password changed; your other sessions are signed out.")
    return redirect(url_for("console.account"))
