"""Trained models in the artifact store by key, and each machine's local copy for its Rasa servers.

A Rasa server loads a model from a file on its own machine, so the reconciler (or `make run`)
fetches the version's bytes from the shared store into this machine's cache first. The cache
is only a copy: it is named after the version (`v12.tar.gz`, so the loaded version can be read
back from Rasa's /status) and checked against the store's digest before it is trusted.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cases.artifacts import open_store
from cases.nlu_models import ModelVersion

CONTENT_TYPE = "application/gzip"
_CACHED = re.compile(r"v(\d+)\.tar\.gz")


class ModelMissing(LookupError):
    """The version has no model in the artifact store (never trained, or pruned)."""


def model_key(version_id: int) -> str:
    """Where a version's model lives in the artifact store."""
    return f"models/v{version_id}/model.tar.gz"


def save_model(*, db_session: Session, version: ModelVersion, path: Path) -> str:
    """Put a trained model's bytes in the store (in the caller's transaction); returns its key."""
    key = model_key(version.id)
    open_store(db_session).put(key, path.read_bytes(), CONTENT_TYPE)
    version.model_path = key
    return key


def extra_key(version_id: int, name: str) -> str:
    """Where a version's training log or confusion matrix lives in the artifact store."""
    return f"models/v{version_id}/{name}"


def save_extras(
    *, db_session: Session, version: ModelVersion, folder: Path, report: dict[str, Any]
) -> None:
    """Keep the training log and confusion matrix with the model, for every machine's console."""
    store = open_store(db_session)
    for name, content_type in (("train.log", "text/plain"), ("confusion.png", "image/png")):
        source = Path(report["confusion_matrix"]) if name == "confusion.png" else folder / name
        if source.is_file():
            store.put(extra_key(version.id, name), source.read_bytes(), content_type)


def extra(*, db_session: Session, version_id: int, name: str) -> bytes | None:
    """A version's stored training log or confusion matrix, if any."""
    stored = open_store(db_session).get(extra_key(version_id, name))
    return stored.data if stored is not None else None


def has_model(*, db_session: Session, version: ModelVersion) -> bool:
    """Whether the version's model can be loaded (its bytes are in the store)."""
    return bool(version.model_path) and (
        open_store(db_session).digest(str(version.model_path)) is not None
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_copy(*, db_session: Session, version_id: int, cache_dir: Path) -> Path:
    """This machine's copy of a version's model, fetched from the store if missing or stale."""
    version = db_session.get(ModelVersion, version_id)
    if version is None or not version.model_path:
        raise ModelMissing(f"version {version_id} has no model")
    store = open_store(db_session)
    wanted = store.digest(version.model_path)
    if wanted is None:
        raise ModelMissing(f"version {version_id}'s model is not in the artifact store")
    target = cache_dir / f"v{version_id}.tar.gz"
    if target.is_file() and _sha256(target) == wanted:
        return target
    stored = store.get(version.model_path)
    assert stored is not None
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".fetch-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(stored.data)
    os.replace(tmp, target)  # atomic: a Rasa server never reads half a file
    return target


def cached_version(model_file: str | None) -> int | None:
    """The version a Rasa server serves, read from the file name /status reports (or None)."""
    match = _CACHED.fullmatch(Path(model_file or "").name)
    return int(match.group(1)) if match else None
