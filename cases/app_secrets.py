"""Secrets generated once and kept in the store, so every worker and machine uses the same one."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cases.admin_models import AppSecret
from cases.models import utcnow

COOKIE_KEY = "console_cookie_key"


def _new_value() -> str:
    return secrets.token_urlsafe(48)


def shared_secret(
    *, sessions: sessionmaker[Session], name: str, make: Callable[[], str] = _new_value
) -> str:
    """The stored secret `name`, created on first use: insert if absent, then read back.

    Workers starting together may all find it missing and try the insert; the primary key
    lets one win, the others' inserts fail, and every worker reads back the winner's value.
    """
    query = select(AppSecret.value).where(AppSecret.name == name)
    with sessions() as db_session:
        stored = db_session.scalars(query).first()
    if stored is not None:
        return str(stored)
    candidate = make()
    try:
        with sessions() as db_session, db_session.begin():
            db_session.add(AppSecret(name=name, value=candidate))
    except IntegrityError:
        pass  # another worker inserted it first
    with sessions() as db_session:
        return str(db_session.scalars(query).one())


def rotate_secret(*, db_session: Session, name: str, make: Callable[[], str] = _new_value) -> None:
    """Replace (or create) the stored secret; processes pick it up when they restart."""
    row = db_session.get(AppSecret, name)
    if row is None:
        db_session.add(AppSecret(name=name, value=make()))
    else:
        row.value, row.created_at = make(), utcnow()
