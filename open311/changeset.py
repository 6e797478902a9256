"""The discovery document's changeset: when the service catalogue last changed, the same on
every machine.

The catalogue files' content is hashed (not their modification time, which differs between
checkouts and machines); the first machine to serve a version records the time it first saw it
in `catalog_changesets`, and every machine then answers that recorded time. A version that comes
back (a revert) keeps its first time, so a client may miss nothing but a no-op.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.admin_models import CatalogChangeset
from cases.models import utcnow


def catalog_files(data_dir: Path) -> list[Path]:
    """The files the published catalogue is built from: services.yml (and per-locale files)."""
    return sorted(data_dir.glob("services*.yml"))


def content_hash(data_dir: Path) -> str:
    """SHA-256 over the catalogue files' names and bytes (independent of git and mtimes)."""
    digest = hashlib.sha256()
    for path in catalog_files(data_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def changeset(*, db_session: Session, digest: str, now: datetime | None = None) -> datetime:
    """The recorded first-seen time of this catalogue version (recorded now if new)."""
    found = db_session.get(CatalogChangeset, digest)
    if found is not None:
        return found.first_seen_at
    try:
        with db_session.begin_nested():
            db_session.add(CatalogChangeset(content_hash=digest, first_seen_at=now or utcnow()))
    except IntegrityError:  # another machine recorded it first: use its time
        pass
    db_session.commit()
    return db_session.get(CatalogChangeset, digest).first_seen_at  # type: ignore[union-attr]


def iso_z(value: datetime) -> str:
    """2026-12-07T01:30:00Z, as the spec's examples write it."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
