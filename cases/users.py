"""Staff accounts: Argon2id password hashes, roles, and rate-limited sign-in."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.admin_models import LoginAttempt, User
from cases.login_limits import RateLimited as RateLimited  # raised by authenticate
from cases.login_limits import check
from cases.models import utcnow
from cases.staff_sessions import end_user_sessions

ROLES = ("supervisor", "admin")
HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
MIN_PASSWORD = 10
# A real hash to verify against when the user does not exist, so timing reveals nothing.
_DUMMY = HASHER.hash("not a password of anyone")


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")


def create_user(
    *, db_session: Session, username: str, password: str, role: str, display_name: str = ""
) -> User:
    """Add a staff account."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise UserError("usernames are 1-64 letters, digits, dots, dashes or underscores")
    _check_role(role)
    _check_password(password)
    if db_session.scalars(select(User).where(User.username == username)).first():
        raise UserError(f"user {username!r} exists already")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=HASHER.hash(password),
        role=role,
    )
    db_session.add(user)
    db_session.flush()
    return user


def authenticate(
    *, db_session: Session, username: str, password: str, ip: str, now: datetime | None = None
) -> User | None:
    """The user if the password is right; None if not; RateLimited when it comes too soon.

    Throttling backs off per (user name, address) and never locks an account for everyone:
    see cases.login_limits.
    """
    now = now or utcnow()
    username = username.strip().lower()[:64]
    check(db_session=db_session, username=username, ip=ip, now=now)
    user = db_session.scalars(select(User).where(User.username == username)).first()
    ok = _verify(user.password_hash if user else _DUMMY, password) and user is not None
    if ok and user is not None and user.disabled_at is not None:
        ok = False
    db_session.add(LoginAttempt(at=now, username=username, ip=ip[:64], success=ok))
    if not ok or user is None:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.last_login_at = now
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def list_users(*, db_session: Session) -> list[User]:
    """All staff accounts by name."""
    return list(db_session.scalars(select(User).order_by(User.username)))


def find_user(*, db_session: Session, username: str) -> User:
    """The account with this user name; UserError if there is none."""
    name = username.strip().lower()
    user = db_session.scalars(select(User).where(User.username == name)).first()
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def _keep_an_admin(db_session: Session, user: User) -> None:
    """Refuse to take away the last enabled admin, so nobody is locked out of the admin pages."""
    if user.role != "admin" or user.disabled_at is not None:
        return
    admins = db_session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.disabled_at.is_(None))
    )
    if (admins or 0) <= 1:
        raise UserError(f"{user.username} is the last active admin")


def set_disabled(
    *, db_session: Session, username: str, disabled: bool, now: datetime | None = None
) -> User:
    """Disable (sign-ins refused, live sessions ended) or enable an account."""
    user = find_user(db_session=db_session, username=username)
    if disabled:
        _keep_an_admin(db_session, user)
        user.disabled_at = user.disabled_at or now or utcnow()
        end_user_sessions(db_session=db_session, user_id=user.id, reason="disabled", now=now)
    else:
        user.disabled_at = None
    return user


def set_role(*, db_session: Session, username: str, role: str) -> User:
    """Change a role; the user's sessions end, so no page keeps the old permissions."""
    _check_role(role)
    user = find_user(db_session=db_session, username=username)
    if user.role != role:
        if role != "admin":
            _keep_an_admin(db_session, user)
        user.role = role
        end_user_sessions(db_session=db_session, user_id=user.id, reason="role_change")
    return user


def change_password(
    *,
    db_session: Session,
    user_id: int,
    current: str,
    new: str,
    keep_token: str | None,
    ip: str,
    now: datetime | None = None,
) -> User | None:
    """Change one's own password (other sessions end); None if `current` is wrong.

    A wrong current password counts as a failed sign-in (same throttle, recorded in the
    caller's transaction), so a borrowed session cannot be used to guess it.
    """
    now = now or utcnow()
    user = db_session.get(User, user_id)
    if user is None:
        raise UserError("no such user")
    check(db_session=db_session, username=user.username, ip=ip, now=now)
    if not _verify(user.password_hash, current):
        db_session.add(LoginAttempt(at=now, username=user.username, ip=ip[:64], success=False))
        return None
    _check_password(new)
    user.password_hash = HASHER.hash(new)
    end_user_sessions(
        db_session=db_session, user_id=user.id, reason="password_change", keep_token=keep_token
    )
    return user


def reset_password(*, db_session: Session, username: str, password: str) -> User:
    """Set another user's password (admins, CLI); all of their sessions end."""
    _check_password(password)
    user = find_user(db_session=db_session, username=username)
    user.password_hash = HASHER.hash(password)
    end_user_sessions(db_session=db_session, user_id=user.id, reason="password_reset")
    return user
