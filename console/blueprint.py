"""The console blueprint, its sign-in guard, CSRF check and template helpers."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from cases.deadlines import default_calendar
from cases.models import Case
from cases.service import get_case
from cases.staff_sessions import session_user

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def runtime():  # type: ignore[no-untyped-def]
    """The app's runtime (store, catalogue, settings)."""
    return current_app.extensions["civicline"]


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


# endpoint -> the request body it may take beyond the app's 64 KB (the photo upload form); for
# signed-in staff only, so nobody else can make a worker read and spool a large body
BODY_LIMITS: dict[str, int] = {}


@bp.before_request
def load_user_and_check_csrf() -> Any:
    """Load the signed-in user; refuse a state-changing request without the session's token."""
    g.user = None
    if request.endpoint == "console.static":
        return None  # the stylesheet needs no user (and no database round trip)
    token = session.get("sid")
    if token is not None:
        with runtime().Session() as db_session:
            g.user = session_user(db_session=db_session, token=str(token))
        if g.user is None:  # signed out elsewhere, ended by an admin, expired, or disabled
            session.clear()
    elif "uid" in session:  # a cookie from before sessions were kept server-side
        session.clear()
    if g.user is not None and request.endpoint in BODY_LIMITS:
        request.max_content_length = BODY_LIMITS[request.endpoint]  # before the form is read
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, "The form has expired or did not come from this site. Reload and try again.")
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    """Console pages hold personal data and one-time API keys: never kept in any cache."""
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def login_required(role: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Views for signed-in staff; role="admin" for admin pages (others get 403)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if role and g.user.role != role:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def safe_next(target: str | None) -> str:
    """Only redirect to paths on this site, so a crafted sign-in link cannot send staff away.

    Browsers read `\\` as `/` and drop tabs and newlines, so `/\\evil.example` or `/<TAB>/evil`
    would leave the site: control characters and whitespace are refused, backslashes count as
    slashes, and what is left must be a path with neither scheme nor host.
    """
    if target and not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        normalised = target.replace("\\", "/")
        parts = urlsplit(normalised)
        if (
            normalised.startswith("/")
            and not normalised.startswith("//")
            and not parts.scheme
            and not parts.netloc
        ):
            return target
    return url_for("console.dashboard")


def mask_phone(phone: str | None) -> str:
    """A phone number as the signed-in role may see it: admins in full, others masked."""
    if not phone:
        return ""
    if g.get("user") is not None and g.user.role == "admin":
        return phone
    return "•" * max(len(phone) - 4, 0) + phone[-4:]


@bp.app_template_global()
def console_csrf() -> str:
    """Template helper: the hidden CSRF token value."""
    return csrf_token()


bp.add_app_template_filter(mask_phone, "mask_phone")


@bp.app_template_filter("due_day")
def due_day(due: Any) -> str:
    """A due date as the city's local day (due dates end a local day: UTC shows the next)."""
    if due is None:
        return "–"
    return (runtime().catalog.calendar or default_calendar()).local_day(due).isoformat()


@bp.context_processor
def city() -> dict[str, str]:
    """The city's name for page titles."""
    return {"city": runtime().settings.city_name}


def get_case_or_404(db_session: Session, number: str) -> Case:
    """The case with this public number, or the 404 page."""
    found = get_case(db_session=db_session, service_request_id=number)
    if found is None:
        abort(404)
    return found
