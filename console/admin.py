"""Admin pages: staff accounts, Open311 API keys and the audit log."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for

from cases.api_keys import ApiKeyError, create_api_key, list_api_keys, revoke_api_key
from cases.audit import recent, record
from cases.users import (
    ROLES,
    UserError,
    create_user,
    list_users,
    reset_password,
    set_disabled,
    set_role,
)
from console.blueprint import bp, login_required, runtime


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required("admin")
def admin_users() -> Any:
    """List staff; add a supervisor or admin."""
    if request.method == "POST":
        try:
            with runtime().Session() as db_session, db_session.begin():
                user = create_user(
                    db_session=db_session,
                    username=request.form.get("username", ""),
                    password=request.form.get("password", ""),
                    role=request.form.get("role", ""),
                    display_name=request.form.get("display_name", ""),
                )
                record(
                    db_session=db_session,
                    actor=g.user,
                    action="user.create",
                    target_type="user",
                    target_id=user.username,
                    detail={"role": user.role},
                )
        except UserError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Added {user.username} ({user.role}).")
        return redirect(url_for("console.admin_users"))
    with runtime().Session() as db_session:
        users = list_users(db_session=db_session)
    return render_template("admin_users.html", users=users, roles=ROLES)


@bp.post("/admin/users/<username>")
@login_required("admin")
def admin_user(username: str) -> Any:
    """Disable, enable, reset the password of, or change the role of one account (audited)."""
    action = request.form.get("action", "")
    if action == "disable" and username == g.user.username:
        flash("You cannot disable your own account; ask another admin.", "error")
        return redirect(url_for("console.admin_users"))
    try:
        with runtime().Session() as db_session, db_session.begin():
            detail: dict[str, Any] = {}
            if action in ("disable", "enable"):
                user = set_disabled(
                    db_session=db_session, username=username, disabled=action == "disable"
                )
            elif action == "reset":
                user = reset_password(
                    db_session=db_session,
                    username=username,
                    password=request.form.get("password", ""),
                )
            elif action == "role":
                user = set_role(
                    db_session=db_session, username=username, role=request.form.get("role", "")
                )
                detail = {"role": user.role}
            else:
                abort(400)
            record(
                db_session=db_session,
                actor=g.user,
                action={"reset": "user.password_reset"}.get(action, f"user.{action}"),
                target_type="user",
                target_id=user.username,
                detail=detail,
            )
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.username}: {_DONE[action]}.")
    return redirect(url_for("console.admin_users"))


_DONE = {
    "disable": "disabled, signed out everywhere",
    "enable": "enabled",
    "reset": "password reset, signed out everywhere",
    "role": "role changed, signed out everywhere",
}


@bp.route("/admin/api-keys", methods=["GET", "POST"])
@login_required("admin")
def admin_api_keys() -> Any:
    """Create and revoke Open311 API keys (a new key is shown once)."""
    new_key = None
    if request.method == "POST":
        name = request.form.get("name", "")
        try:
            with runtime().Session() as db_session, db_session.begin():
                if request.form.get("action") == "revoke":
                    revoke_api_key(db_session=db_session, name=name)
                    action = "api_key.revoke"
                else:
                    new_key = create_api_key(db_session=db_session, name=name)
                    action = "api_key.create"
                record(
                    db_session=db_session,
                    actor=g.user,
                    action=action,
                    target_type="api_key",
                    target_id=name,
                )
        except ApiKeyError as exc:
            flash(str(exc), "error")
    with runtime().Session() as db_session:
        keys = list_api_keys(db_session=db_session)
    return render_template("admin_keys.html", keys=keys, new_key=new_key)


@bp.get("/admin/audit")
@login_required("admin")
def admin_audit() -> Any:
    """The newest audit entries."""
    with runtime().Session() as db_session:
        entries = recent(db_session=db_session)
    return render_template("admin_audit.html", entries=entries)
