"""Open311 API keys: created and revoked by admins, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.admin_models import ApiKey
from cases.models import utcnow


class ApiKeyError(ValueError):
    """A key cannot be created or revoked as asked."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(*, db_session: Session, name: str, now: datetime | None = None) -> str:
    """Create a named key and return it (the only time it is ever shown)."""
    name = name.strip()
    if not name:
        raise ApiKeyError("a key needs a name")
    if db_session.scalars(select(ApiKey).where(ApiKey.name == name)).first():
        raise ApiKeyError(f"a key named {name!r} exists already")
    key = "cl_" + secrets.token_urlsafe(30)
    created = now or utcnow()
    db_session.add(ApiKey(name=name, key_hash=_hash(key), prefix=key[:10], created_at=created))
    db_session.flush()
    return key


def revoke_api_key(*, db_session: Session, name: str, now: datetime | None = None) -> ApiKey:
    """Revoke the key with this name."""
    key = db_session.scalars(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise ApiKeyError(f"no key named {name!r}")
    key.revoked_at = key.revoked_at or now or utcnow()
    return key


def find_api_key(*, db_session: Session, key: str) -> ApiKey | None:
    """The active key matching this secret, or None."""
    found = db_session.scalars(select(ApiKey).where(ApiKey.key_hash == _hash(key))).first()
    return found if found is not None and found.revoked_at is None else None


def list_api_keys(*, db_session: Session) -> list[ApiKey]:
    """Every key, newest first."""
    return list(db_session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))
