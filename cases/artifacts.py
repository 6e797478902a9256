"""The artifact store: bytes by key (photos, trained models), one small interface, in the database.

Rows name their bytes by key, never by path, so every app machine reads the same photos and
models: with PostgreSQL the `artifacts` table is shared like the rest of the store, and no
machine keeps state on its own disk. The database implementation writes in the caller's
transaction, so a photo's row and its bytes (or a trained version and its model) commit or roll
back together. Why the database and not an object store: the artifacts are small (a trained NLU
model is 1.4-2.1 MB, a photo at most 5 MB) and few, the store is already shared and backed up,
and there is one service less to run and secure (measured in docs/deploy.md). An S3-compatible
store would be a second class with these methods, chosen in `open_store`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cases.media_models import Artifact
from cases.models import utcnow


@dataclass(frozen=True)
class Stored:
    """Bytes read back from the store, with their content type."""

    data: bytes
    content_type: str


class ArtifactStore(Protocol):
    """Bytes by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store (or replace) the bytes under `key`."""

    def get(self, key: str) -> Stored | None:
        """The bytes under `key`, or None."""

    def digest(self, key: str) -> str | None:
        """The SHA-256 of the bytes under `key` (None if absent), without reading them."""

    def delete(self, key: str) -> None:
        """Remove `key` (no error if it is not there)."""


class DatabaseArtifactStore:
    """The store: one row of `artifacts` per key, in the caller's transaction."""

    def __init__(self, db_session: Session):
        self.db_session = db_session

    def put(self, key: str, data: bytes, content_type: str) -> None:
        blob = self.db_session.get(Artifact, key)
        if blob is None:
            blob = Artifact(key=key)
            self.db_session.add(blob)
        blob.data, blob.content_type, blob.size = data, content_type, len(data)
        blob.sha256 = hashlib.sha256(data).hexdigest()
        blob.created_at = utcnow()
        self.db_session.flush()

    def get(self, key: str) -> Stored | None:
        blob = self.db_session.get(Artifact, key)
        return None if blob is None else Stored(bytes(blob.data), blob.content_type)

    def digest(self, key: str) -> str | None:
        return self.db_session.scalar(select(Artifact.sha256).where(Artifact.key == key))

    def delete(self, key: str) -> None:
        self.db_session.execute(
            delete(Artifact).where(Artifact.key == key).execution_options(synchronize_session=False)
        )
        stale = self.db_session.identity_map.get(identity_key(Artifact, key))
        if stale is not None:  # a blob this session loaded is gone: forget it
            self.db_session.expunge(stale)


def open_store(db_session: Session) -> ArtifactStore:
    """The configured artifact store, working within this session."""
    return DatabaseArtifactStore(db_session)


def new_key(prefix: str, extension: str) -> str:
    """A fresh key, e.g. photo/12/3f9c...e1.jpg (new bytes get a new key, so caches never lie)."""
    return f"{prefix}/{secrets.token_hex(12)}.{extension}"
