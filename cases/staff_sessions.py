"""Server-side console sessions: the cookie carries a random token, the store only its hash.

A row per signed-in browser (rather than a counter on the user) so that signing out ends just
that browser, a password change keeps the browser that made it, and an admin can end all of a
user's sessions at once; and since only hashes are stored, reading the database (or knowing the
cookie key) is not enough to mint a session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cases.admin_models import StaffSession, User
from cases.models import utcnow

LIFETIME = timedelta(hours=10)  # also the cookie's lifetime
KEEP_ENDED = timedelta(days=1)  # ended and expired rows are deleted this long after expiry


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    *, db_session: Session, user: User, ip: str = "", now: datetime | None = None
) -> str:
    """A new session for `user`; returns the token for the cookie (never stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db_session.add(
        StaffSession(token_hash=_hash(token), user_id=user.id, ip=ip[:64], created_at=now)
    )
    db_session.execute(
        delete(StaffSession).where(StaffSession.created_at < now - LIFETIME - KEEP_ENDED)
    )
    return token


def session_user(*, db_session: Session, token: str, now: datetime | None = None) -> User | None:
    """The enabled user whose live, unexpired session this token is, else None."""
    now = now or utcnow()
    return db_session.scalars(
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            StaffSession.token_hash == _hash(token),
            StaffSession.ended_at.is_(None),
            StaffSession.created_at > now - LIFETIME,
            User.disabled_at.is_(None),
        )
    ).first()


def end_session(
    *, db_session: Session, token: str, reason: str = "logout", now: datetime | None = None
) -> None:
    """End one session (signing out), wherever its cookie has been copied to."""
    db_session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
    )


def end_user_sessions(
    *,
    db_session: Session,
    user_id: int,
    reason: str,
    keep_token: str | None = None,
    now: datetime | None = None,
) -> int:
    """End every live session of a user (but `keep_token`'s); returns how many ended."""
    query = update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
    )
    if keep_token:
        query = query.where(StaffSession.token_hash != _hash(keep_token))
    result = db_session.execute(query.values(ended_at=now or utcnow(), end_reason=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_all_sessions(*, db_session: Session, reason: str, now: datetime | None = None) -> int:
    """End every live session (e.g. after the cookie key was rotated); returns how many."""
    result = db_session.execute(
        update(StaffSession)
        .where(StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
