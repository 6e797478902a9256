"""What /metrics reads at scrape time (queues, jobs, Rasa replicas) and the served model version,
from the store; only ops/metrics.py and runtime.py use this module, never a request's hot path.

Every query is one indexed aggregate, run only when Prometheus scrapes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cases.fleet_models import NluTarget, RasaReplica
from cases.job_models import Job
from cases.models import Conversation, OutboundMessage, utcnow
from cases.nlu_models import ModelVersion

log = logging.getLogger("civicline.metrics")
REPLICA_TIMEOUT = 0.5  # seconds per /status: a scrape must stay quick even with a replica down


class ActiveModelVersions:
    """The active model version per language ('v12'), read from model_versions at most every
    `ttl` seconds per worker, so a parse costs no query and an activation shows within `ttl`."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 30.0):
        self.sessions, self.ttl = sessions, ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, language: str) -> str:
        """The label for this language's served version ('none' when no version is active)."""
        now = time.monotonic()
        cached = self._cache.get(language)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        with self._lock, self.sessions() as db_session:
            found = db_session.scalar(
                select(ModelVersion.id).where(
                    ModelVersion.active.is_(True), ModelVersion.language == language
                )
            )
        label = f"v{found}" if found is not None else "none"
        self._cache[language] = (now, label)
        return label


@dataclass(frozen=True)
class Replica:
    """One Rasa server as /metrics reports it."""

    url: str
    language: str
    up: bool


def probe_replicas(servers: Iterable[tuple[str, str]], token: str | None) -> list[Replica]:
    """Each (url, language)'s reachability: GET /status answers 200 within REPLICA_TIMEOUT.

    The one place that decides replica state, so it can later read the rasa_replicas table.
    """

    def probe(server: tuple[str, str]) -> Replica:
        url, language = server
        try:
            resp = requests.get(
                f"{url}/status",
                params={"token": token} if token else {},
                timeout=REPLICA_TIMEOUT,
            )
            return Replica(url, language, resp.status_code == 200)
        except requests.RequestException:
            return Replica(url, language, False)

    servers = list(servers)
    if not servers:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(servers))) as pool:
        return list(pool.map(probe, servers))


def _age(oldest: datetime | None, now: datetime) -> float:
    """Seconds since `oldest` (0 when nothing is waiting)."""
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


class StoreCollector(Collector):
    """Gauges read when /metrics is scraped: handoff queue, outbox, jobs and Rasa replicas."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        replicas: Callable[[], list[Replica]],
        clock: Callable[[], datetime] = utcnow,
    ):
        self.sessions, self.replicas, self.clock = sessions, replicas, clock

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing up front, so registering this collector runs no query."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One scrape's gauges (a failing store yields civicline_store_up 0, not an error)."""
        up = GaugeMetricFamily("civicline_store_up", "1 if the store answered this scrape.")
        try:
            families = list(self._store())
            up.add_metric([], 1)
        except Exception:  # any store failure: say so and keep the other metrics
            log.exception("metrics: the store did not answer")
            families = []
            up.add_metric([], 0)
        yield up
        yield from families
        yield self._replica_family()

    def _store(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        with self.sessions() as db_session:
            waiting, oldest_wait = db_session.execute(
                select(func.count(), func.min(Conversation.handoff_requested_at)).where(
                    Conversation.handoff_status == "waiting"
                )
            ).one()
            depth, oldest_out = db_session.execute(
                select(func.count(), func.min(OutboundMessage.created_at)).where(
                    OutboundMessage.status.in_(("pending", "sending"))
                )
            ).one()
            jobs = db_session.execute(
                select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
            ).all()
            fleet = list(db_session.scalars(select(RasaReplica)))
            targets = db_session.execute(select(NluTarget.language, NluTarget.version_id)).all()
        yield _gauge("civicline_handoff_queue_length", "Conversations waiting for staff.", waiting)
        yield _gauge(
            "civicline_handoff_oldest_wait_seconds",
            "How long the longest-waiting handoff has waited (0: none waiting).",
            _age(oldest_wait, now),
        )
        yield _gauge("civicline_outbox_depth", "Texts not yet sent (pending or sending).", depth)
        yield _gauge(
            "civicline_outbox_oldest_age_seconds",
            "Age of the oldest text not yet sent (0: none).",
            _age(oldest_out, now),
        )
        family = GaugeMetricFamily(
            "civicline_jobs",
            "Background jobs recorded, by kind and status.",
            labels=["kind", "status"],
        )
        for kind, status, count in jobs:
            family.add_metric([kind, status], count)
        yield family
        yield from _fleet(fleet, targets, now)

    def _replica_family(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "civicline_rasa_replica_up",
            "1 if the Rasa replica answered GET /status within 0.5 s.",
            labels=["url", "language"],
        )
        try:
            replicas = self.replicas()
        except Exception:  # a probe bug must not take the whole scrape down
            replicas = []
        for replica in replicas:
            family.add_metric([replica.url, replica.language], 1 if replica.up else 0)
        return family


def _fleet(
    replicas: list[RasaReplica], targets: list[Any], now: datetime
) -> Iterator[GaugeMetricFamily]:
    """What each machine's reconciler last reported for its replicas, and the wanted versions."""
    labels = ["machine", "url", "language"]
    state = GaugeMetricFamily(
        "civicline_rasa_replica_state",
        "1 for the state each replica's reconciler last reported (serving, draining, loading, "
        "failed, down).",
        labels=[*labels, "state"],
    )
    version = GaugeMetricFamily(
        "civicline_rasa_replica_version", "The model version each replica serves.", labels=labels
    )
    seen = GaugeMetricFamily(
        "civicline_rasa_replica_report_age_seconds",
        "Seconds since the replica's machine last reported (a gone machine keeps growing).",
        labels=labels,
    )
    for row in replicas:
        key = [row.machine, row.url, row.language]
        state.add_metric([*key, row.state], 1)
        version.add_metric(key, row.version_id or 0)
        seen.add_metric(key, _age(row.seen_at, now))
    wanted = GaugeMetricFamily(
        "civicline_nlu_wanted_version",
        "The version each language should serve.",
        labels=["language"],
    )
    for language, version_id in targets:
        wanted.add_metric([language], version_id)
    yield from (state, version, seen, wanted)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
