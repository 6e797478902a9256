"""gunicorn settings, from the same environment variables as the app."""

import os
import re
import shutil
from pathlib import Path

from gunicorn.glogging import Logger

port = os.environ.get("CIVICLINE_PORT", "8000")
bind = f"0.0.0.0:{port}"
# Prometheus multiprocess mode: each worker writes its samples to files here and /metrics adds
# them up. One folder per pool (port), so make run's two pools never empty each other's.
HERE = Path(globals().get("__file__", "gunicorn.conf.py")).resolve().parent
METRICS_DIR = HERE / "var" / "metrics" / f"port-{port}"
workers = int(os.environ.get("CIVICLINE_WORKERS", "2"))
timeout = 30
graceful_timeout = 20
accesslog = "-"
# The path without its query string: a query can carry search terms or a misplaced api_key.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
CASE_PAGE = re.compile(r"^(/c/[^/]+-)[^/-]+$")  # /c/311-000123-<token>: the token is the key


class AccessLogger(Logger):
    """The access log without public case page tokens (/c/311-000123-k7Q2xR -> /c/311-000123-***),
    so whoever reads the logs cannot open residents' pages."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = CASE_PAGE.sub(r"\1***", atoms.get("U") or "")
        return atoms


logger_class = AccessLogger
threads = int(os.environ.get("CIVICLINE_THREADS", "1"))  # >1: gthread workers
if threads > 1:
    worker_class = "gthread"


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """The public/console pool runs at a lower CPU priority than the webhook pool (make run),
    so anonymous traffic only gets the CPU residents' texts and Rasa leave over."""
    nice = int(os.environ.get("CIVICLINE_NICE", "0"))
    if nice:
        os.nice(nice)


def on_starting(server):  # type: ignore[no-untyped-def]
    """A fresh metrics folder (an earlier run's files would be added to this run's counts),
    named in the master's environment before any worker is forked and imports
    prometheus_client, which reads it at import."""
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    METRICS_DIR.mkdir(parents=True, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A dead worker's live gauges stop counting (its counters and histograms are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    """Leave no metrics folder behind (tests start gunicorn on a new port each time)."""
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
