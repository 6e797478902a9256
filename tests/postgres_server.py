"""A throwaway PostgreSQL server for tests (the Debian server binaries, run as `postgres`)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from nlu.server import free_port


def binaries() -> Path | None:
    """The newest installed PostgreSQL bin directory, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """initdb + pg_ctl on a free loopback port; trust auth; removed on stop."""

    def __init__(self) -> None:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL server binaries are missing (apt-get install postgresql)"
            )
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="civicline-pg-", dir="/tmp"))
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/civicline"

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_postgres, *cmd], check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        """Create the cluster and the database, and start the server."""
        data = self.dir / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "civicline",
        )
        return self

    def stop(self) -> None:
        """Stop the server and delete its files."""
        subprocess.run(
            [
                *self.as_postgres,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.dir / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)
