"""The fleet's small rules without Rasa: which replicas get parses, what a cached copy serves,
and a training no machine started being picked up by one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cases import jobs
from cases.db import make_engine, make_session_factory
from cases.models import utcnow
from nlu import fleet, versions
from nlu.client import RasaClient
from nlu.model_store import cached_version
from nlu.reconcile import Reconciler


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def reconciler(sessions, tmp_path: Path, started: list[int]) -> Reconciler:
    return Reconciler(
        sessions=sessions,
        machine="m1",
        replicas={},
        token=None,
        cache_dir=tmp_path,
        train=started.append,
    )


def test_a_training_its_machine_never_started_is_picked_up_once_it_is_overdue(sessions, tmp_path):
    started: list[int] = []
    rec = reconciler(sessions, tmp_path, started)
    with sessions() as s, s.begin():
        version_id = versions.start_training(db_session=s, user=None, epochs=3).id
    assert rec.pick_up_training() is None  # just queued: its own machine is starting it
    later = utcnow() + timedelta(seconds=30)
    assert rec.pick_up_training(now=later) == version_id and started == [version_id]
    with sessions() as s, s.begin():  # once a process runs it, nobody else starts it
        job_id = versions.training_job(db_session=s, version_id=version_id)
        jobs.start(db_session=s, job_id=job_id)
    assert rec.pick_up_training(now=later) is None and started == [version_id]


def test_replicas_out_of_rotation_are_tried_last(sessions):
    with sessions() as s, s.begin():
        for url, state in (("http://a", "serving"), ("http://b", "draining")):
            row = fleet.replica(db_session=s, machine="m1", url=url, language="en")
            fleet.report(db_session=s, row=row, state=state, version_id=1)
        other = fleet.replica(db_session=s, machine="m2", url="http://c", language="en")
        fleet.report(db_session=s, row=other, state="loading", version_id=1)
    rotation = fleet.Rotation(sessions, "m1", ttl=0)
    assert rotation() == {"http://b"}  # only this machine's, and only those not serving
    client = RasaClient("http://b,http://a", skip=rotation)
    assert [client._order()[0] for _ in range(4)] == ["http://a"] * 4
    assert client._order()[-1] == "http://b"  # still there, should every other one fail


def test_the_version_a_replica_serves_is_read_from_its_cached_copys_name():
    assert cached_version("/srv/civicline/var/models/cache/v12.tar.gz") == 12
    assert cached_version("v3.tar.gz") == 3
    assert cached_version("nlu-d8f36ccac1c1dc82.tar.gz") is None
    assert cached_version(None) is None


def test_a_rasa_token_starting_with_a_dash_is_passed_as_one_word(tmp_path):
    from nlu.server import RasaServer

    # secrets.token_urlsafe gives such a token about once in 64: rasa's parser took it for an option
    server = RasaServer(tmp_path / "m.tar.gz", token="-Xy3", log_path=tmp_path / "r.log")
    command = server.command()
    assert "--auth-token=-Xy3" in command and "-Xy3" not in command
