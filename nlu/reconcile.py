"""`python -m nlu.reconcile` (or `flask nlu serve-reconcile`): one per app machine, under
`make run`'s supervisor. It makes this machine's Rasa replicas serve the wanted model version.

Every `CIVICLINE_RECONCILE_EVERY` seconds it reads the wanted version per language from the
store (a short poll: every machine sees the same row, whichever machine wrote it) and brings
each of its replicas there one at a time: out of rotation first (`draining`, long enough for
every gunicorn worker to stop sending it parses), fetch the model into this machine's cache,
PUT /model, one warm-up parse, back in rotation, then a pause so the replica warms up and the
others keep up before the next one. Each step is reported in the store for the console.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from cases import jobs
from cases.db import begin_read_only
from cases.models import utcnow
from nlu import activation, fleet, versions
from nlu.client import NLUError, RasaClient
from nlu.job_processes import job_env
from nlu.model_store import ModelMissing, cached_version, local_copy
from settings import Settings

log = logging.getLogger("civicline.reconcile")
UNSTARTED_AFTER = timedelta(seconds=20)  # a queued training no process took up by then


class Reconciler:
    """Converges this machine's replicas ({language: [url, ...]}) on the wanted versions."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        machine: str,
        replicas: dict[str, list[str]],
        token: str | None,
        cache_dir: Path,
        drain_seconds: float = 1.5,
        pause_seconds: float = 1.0,
        load_timeout: float = 180.0,
        gone_after: float = 15.0,
        train: Callable[[int], object] | None = None,
    ):
        self.sessions, self.machine, self.replicas = sessions, machine, replicas
        self.cache_dir, self.drain, self.pause = cache_dir, drain_seconds, pause_seconds
        self.load_timeout = load_timeout
        self.gone_after = timedelta(seconds=gone_after)
        self.train = train  # starts `nlu.jobs train ID` on this machine
        urls = [u for group in replicas.values() for u in group]
        self.client = RasaClient(",".join(urls) or "http://127.0.0.1", token, timeout=5.0)
        # (url, version, rollout job) that failed: not retried until another rollout asks again
        self.refused: set[tuple[str, int, int | None]] = set()
        self._job: int | None = None

    def _report(self, language: str, url: str, state: str, **kw: object) -> None:
        with self.sessions() as s, s.begin():
            row = fleet.replica(db_session=s, machine=self.machine, url=url, language=language)
            fleet.report(db_session=s, row=row, state=state, **kw)  # type: ignore[arg-type]
            step = {
                fleet.DRAINING: activation.DRAINING,
                fleet.LOADING: activation.LOADING,
                fleet.FAILED: activation.FAILED,
            }.get(state)
            if step:
                activation.touch(
                    db_session=s, language=language, name=f"{self.machine} {url}", state=step
                )

    def _swap(self, language: str, url: str, serving: int | None, want: int) -> None:
        """Out of rotation, load, warm up, back in; on failure back on `serving`, rollout failed."""
        name = f"{self.machine} {url}"
        log.info("%s: v%s -> v%s (out of rotation first)", name, serving, want)
        self._report(language, url, fleet.DRAINING, version_id=serving)
        time.sleep(self.drain)  # longer than fleet.Rotation's ttl, plus a parse in flight
        try:
            with self.sessions() as s:
                path = local_copy(db_session=s, version_id=want, cache_dir=self.cache_dir)
            self._report(language, url, fleet.LOADING, version_id=serving)
            self.client.load_model(url, str(path), timeout=self.load_timeout)
            self.client.warm(url)
            now = cached_version(self.client.status(url).get("model_file"))
            if now != want:
                raise NLUError(f"{url} serves version {now} after loading {want}")
        except (NLUError, ModelMissing) as exc:
            log.warning("%s: loading v%s failed: %s", name, want, exc)
            self.refused.add((url, want, self._job))
            self._report(language, url, fleet.FAILED, version_id=serving, error=str(exc)[:500])
            self._restore(language, url, serving, f"failed to load v{want}: {exc}"[:500])
            with self.sessions() as s, s.begin():
                activation.fail(db_session=s, language=language, name=name, error=str(exc))
            return
        self._report(language, url, fleet.SERVING, version_id=want)
        with self.sessions() as s, s.begin():
            activation.touch(db_session=s, language=language, name=name, state=activation.LOADED)
        log.info("%s: serving v%s", name, want)
        time.sleep(self.pause)  # pace: this one warms up under traffic before the next goes out

    def _restore(self, language: str, url: str, version: int | None, error: str) -> None:
        """Put back the model a replica served before a failed load (it stays out if it can't)."""
        try:
            if version is None:
                raise ModelMissing("it served no known version before")
            with self.sessions() as s:
                path = local_copy(db_session=s, version_id=version, cache_dir=self.cache_dir)
            self.client.load_model(url, str(path), timeout=self.load_timeout)
            self.client.warm(url)
        except (NLUError, ModelMissing) as exc:
            self._report(language, url, fleet.FAILED, version_id=None, error=f"{error}; {exc}")
            return
        self._report(language, url, fleet.SERVING, version_id=version, error=error)
        with self.sessions() as s, s.begin():
            activation.touch(
                db_session=s,
                language=language,
                name=f"{self.machine} {url}",
                state=activation.RESTORED,
            )

    def converge(self, language: str, url: str) -> None:
        """Bring one replica to its language's wanted version (or just report it)."""
        with self.sessions() as s:
            begin_read_only(s)  # every second on every machine: no SQLite write lock for a read
            want = fleet.wanted(db_session=s, language=language)
            job = activation.rollout(db_session=s, language=language)
            self._job = job.id if job is not None else None
            row = fleet.known(db_session=s, machine=self.machine, url=url)
        refused = want is not None and (url, want, self._job) in self.refused
        try:
            serving = cached_version(self.client.status(url).get("model_file"))
        except NLUError as exc:
            self._report(language, url, fleet.DOWN, error=str(exc)[:500], keep_version=True)
            return
        if want is None or serving == want or refused:
            error = row.error if row is not None and refused else None
            if row is not None and (row.state, row.version_id, row.error) == (
                fleet.SERVING,
                serving,
                error,
            ):
                return  # nothing new to say: the heartbeat thread keeps the row fresh
            with self.sessions() as s, s.begin():
                row = fleet.replica(db_session=s, machine=self.machine, url=url, language=language)
                if row.state != fleet.FAILED or serving == want:
                    error = row.error if refused else None
                    fleet.report(
                        db_session=s, row=row, state=fleet.SERVING, version_id=serving, error=error
                    )
            return
        self._swap(language, url, serving, want)

    def pick_up_training(self, now: datetime | None = None) -> int | None:
        """Start a training its requesting machine never started (it died): the job's
        compare-and-set start lets exactly one machine run it; the version, if started here."""
        if self.train is None:
            return None
        with self.sessions() as s:
            begin_read_only(s)
            job = jobs.holder(db_session=s, name=versions.TRAIN_LOCK)
            if (
                job is None
                or job.status != "queued"
                or job.target_id is None
                or (now or utcnow()) - job.created_at < UNSTARTED_AFTER
            ):
                return None
            version_id = job.target_id
        log.info("training of v%s was never started: starting it here", version_id)
        self.train(version_id)
        return version_id

    def step(self) -> None:
        """One pass over every replica of this machine, then end any rollout that is complete."""
        self.pick_up_training()
        for language, urls in self.replicas.items():
            for url in urls:
                self.converge(language, url)
            with self.sessions() as s:
                begin_read_only(s)
                if activation.rollout(db_session=s, language=language) is None:
                    continue  # nothing to settle: no write transaction
            with self.sessions() as s, s.begin():
                done = activation.settle(
                    db_session=s, language=language, gone_after=self.gone_after
                )
                if done is not None:
                    log.info("job %s: %s", done.id, done.result)

    def heartbeat(self, stop: threading.Event, every: float = 2.0) -> None:
        """Keep this machine's rows fresh while a slow load blocks the pass (own thread)."""
        while not stop.wait(every):
            try:
                with self.sessions() as s, s.begin():
                    fleet.heartbeat(db_session=s, machine=self.machine)
            except Exception as exc:  # the store may blink; the next beat retries
                log.warning("heartbeat failed: %s", exc)

    def run(self, stop: threading.Event, every: float = 1.0) -> None:
        """Reconcile until `stop` is set; a failed pass is logged and the next one retries."""
        beats = threading.Thread(target=self.heartbeat, args=(stop,), daemon=True)
        beats.start()
        while not stop.is_set():
            try:
                self.step()
            except Exception:  # keep reconciling; the store or Rasa may be back
                log.exception("reconcile pass failed")
            stop.wait(every)


def from_settings(settings: Settings, sessions: sessionmaker[Session]) -> Reconciler:
    """This machine's reconciler, over the Rasa servers its settings name."""
    replicas = {
        code: [u.strip().rstrip("/") for u in csv.split(",") if u.strip()]
        for code, csv in settings.rasa_urls().items()
        if csv.strip()
    }
    return Reconciler(
        sessions=sessions,
        machine=settings.machine,
        replicas=replicas,
        token=settings.rasa_token,
        cache_dir=settings.model_dir / "cache",
        drain_seconds=settings.drain_seconds,
        gone_after=settings.replica_gone_seconds,
        train=lambda version_id: versions.launch(version_id, job_env(settings)),
    )


def serve(settings: Settings) -> int:
    """Run this machine's reconciler until SIGTERM or Ctrl-C."""
    from cases.db import make_engine, make_session_factory

    logging.basicConfig(level=logging.INFO, format="%(asctime)s reconcile %(message)s")
    sessions = make_session_factory(make_engine(settings.database_url))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    reconciler = from_settings(settings, sessions)
    log.info("machine %s: replicas %s", settings.machine, reconciler.replicas)
    reconciler.run(stop, settings.reconcile_every)
    return 0


if __name__ == "__main__":
    sys.exit(serve(Settings.from_env()))
