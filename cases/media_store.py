"""Where photo bytes live: one small interface (put, get, delete by key), a database table by
default.

Rows name their bytes by key, never by path, so every app machine reads the same photos: with
PostgreSQL the `media_blobs` table is shared like the rest of the store, and no machine keeps
state on its own disk. The database implementation writes in the caller's transaction, so a
photo's row and its bytes commit (or roll back) together. An object store (S3-compatible) would
be a second class with the same three methods, chosen in `open_store`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cases.models import MediaBlob, utcnow


@dataclass(frozen=True)
class Stored:
    """Bytes read back from the store, with their content type."""

    data: bytes
    content_type: str


class MediaStore(Protocol):
    """Bytes by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store (or replace) the bytes under `key`."""

    def get(self, key: str) -> Stored | None:
        """The bytes under `key`, or None."""

    def delete(self, key: str) -> None:
        """Remove `key` (no error if it is not there)."""


class DatabaseMediaStore:
    """The default store: one row of `media_blobs` per key, in the caller's transaction."""

    def __init__(self, db_session: Session):
        self.db_session = db_session

    def put(self, key: str, data: bytes, content_type: str) -> None:
        blob = self.db_session.get(MediaBlob, key)
        if blob is None:
            blob = MediaBlob(key=key)
            self.db_session.add(blob)
        blob.data, blob.content_type, blob.size = data, content_type, len(data)
        blob.created_at = utcnow()
        self.db_session.flush()

    def get(self, key: str) -> Stored | None:
        blob = self.db_session.get(MediaBlob, key)
        return None if blob is None else Stored(bytes(blob.data), blob.content_type)

    def delete(self, key: str) -> None:
        self.db_session.execute(
            delete(MediaBlob)
            .where(MediaBlob.key == key)
            .execution_options(synchronize_session=False)
        )
        stale = self.db_session.identity_map.get(identity_key(MediaBlob, key))
        if stale is not None:  # a blob this session loaded is gone: forget it
            self.db_session.expunge(stale)


def open_store(db_session: Session) -> MediaStore:
    """The configured media store, working within this session."""
    return DatabaseMediaStore(db_session)


def new_key(prefix: str, extension: str) -> str:
    """A fresh key, e.g. photo/12/3f9c...e1.jpg (new bytes get a new key, so caches never lie)."""
    return f"{prefix}/{secrets.token_hex(12)}.{extension}"
