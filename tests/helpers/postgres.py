"""A throw-away PostgreSQL server for the tests: one cluster per test session (initdb in a temp
folder, listening on a unix socket only), a fresh database per test.

Needs the PostgreSQL server binaries (apt ``postgresql``) and psycopg 3
(``pip install 'flowdesk[postgres]'``). ``available()`` says why not when they are missing; with
``CI=true`` the fixtures fail instead of skipping, because CI installs both.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresCluster", "available", "start_cluster"]

_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
_counter = itertools.count(1)


def available() -> str | None:
    """None when a cluster can be started here, else the reason it cannot."""
    if not _BIN:
        return "PostgreSQL server binaries not installed (apt install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser missing (needed to run PostgreSQL as a non-root user)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (pip install 'flowdesk[postgres]')"
    return None


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True,
                          timeout=120)


class PostgresCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="flowdesk-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = str(56000 + os.getpid() % 1000)
        self.bin = _BIN[-1]

    def start(self) -> PostgresCluster:
        os.chmod(self.root, 0o777)
        self.sock.mkdir()
        os.chmod(self.sock, 0o777)
        _as_postgres(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U",
                     "postgres")
        _as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.data), "-o",
                     f"-p {self.port} -k {self.sock} -c listen_addresses='' "
                     "-c max_connections=200 -c fsync=on", "-l", str(self.root / "log"),
                     "-w", "start")
        return self

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; its SQLAlchemy URL (psycopg 3 over the socket)."""
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        _as_postgres(f"{self.bin}/createdb", "-h", str(self.sock), "-p", self.port, name)
        return f"postgresql+psycopg://postgres@/{name}?host={self.sock}&port={self.port}"

    def stop(self) -> None:
        try:
            _as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PostgresCluster:
    """A started throw-away server; skips the test where one cannot start here, and fails it
    under ``CI=true`` (CI installs PostgreSQL)."""
    import pytest

    reason = available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot run: {reason}")
        pytest.skip(reason)
    return PostgresCluster().start()
