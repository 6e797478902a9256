"""`make bench` (artifact store): why models and photos live in the database, measured.

Puts and gets a trained NLU model (the served one, ~2 MB) and a 5 MB photo-sized blob through
the artifact store on SQLite and on a throwaway PostgreSQL, and the same bytes through a local
folder (write + fsync, read) as the baseline; then a reconciler's fetch of a model into its
cache (`local_copy`), cold and warm. Reports medians and the ratio to the folder.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cases.artifacts import open_store
from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.nlu_models import ModelVersion
from nlu.model_store import local_copy, save_model
from nlu.rasa_cli import ensure_model
from settings import ROOT

ROUNDS = 7


def median_ms(action: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def folder(tmp: Path, data: bytes) -> dict[str, float]:
    path = tmp / "blob.bin"

    def put() -> None:
        with path.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return {"put_ms": median_ms(put), "get_ms": median_ms(path.read_bytes)}


def database(url: str, data: bytes, model: Path, cache: Path) -> dict[str, float]:
    sessions = make_session_factory(make_engine(url))

    def put() -> None:
        with sessions() as s, s.begin():
            open_store(s).put("bench/blob.bin", data, "application/octet-stream")

    def get() -> None:
        with sessions() as s:
            open_store(s).get("bench/blob.bin")

    with sessions() as s, s.begin():
        version = ModelVersion(created_by="bench", status="trained")
        s.add(version)
        s.flush()
        save_model(db_session=s, version=version, path=model)
        version_id = version.id

    def fetch_cold() -> None:
        (cache / f"v{version_id}.tar.gz").unlink(missing_ok=True)
        with sessions() as s:
            local_copy(db_session=s, version_id=version_id, cache_dir=cache)

    def fetch_warm() -> None:
        with sessions() as s:
            local_copy(db_session=s, version_id=version_id, cache_dir=cache)

    return {
        "put_ms": median_ms(put),
        "get_ms": median_ms(get),
        "model_fetch_cold_ms": median_ms(fetch_cold),
        "model_fetch_warm_ms": median_ms(fetch_warm),
    }


def main() -> None:
    """Measure and print/save."""
    from tests.postgres_server import PostgresServer

    model = ensure_model()
    tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-artifacts-"))
    photo = os.urandom(5 * 1024 * 1024)
    pg = PostgresServer().start()
    result: dict[str, object] = {"model_bytes": model.stat().st_size, "photo_bytes": len(photo)}
    try:
        sqlite = f"sqlite:///{tmp / 'bench.db'}"
        for url in (sqlite, pg.url):
            upgrade(url)
        for name, data in (("model", model.read_bytes()), ("photo_5mb", photo)):
            base = folder(tmp, data)
            rows = {"folder": base}
            for label, url in (("sqlite", sqlite), ("postgresql", pg.url)):
                got = database(url, data, model, tmp / f"cache-{label}")
                got["put_vs_folder"] = round(got["put_ms"] / max(base["put_ms"], 0.1), 2)
                got["get_vs_folder"] = round(got["get_ms"] / max(base["get_ms"], 0.1), 2)
                rows[label] = got
            result[name] = rows
    finally:
        pg.stop()
    out = ROOT / "reports" / "bench-artifacts.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
