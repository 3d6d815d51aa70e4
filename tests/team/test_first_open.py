"""Several processes opening a fresh database at once: one migrates it, the others wait for
it (PostgreSQL: an advisory lock; SQLite: the write lock) and every one of them works."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from flowdesk.store.database import HEAD_REVISION
from tests.helpers.postgres import PostgresCluster

PROCESSES = 6


def _open_together(url: str) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ}
    env.pop("FLOWDESK_DB", None)
    procs = [subprocess.Popen([sys.executable, "-m", "flowdesk", "--db", url, "workflows"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(PROCESSES)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_processes_opening_a_fresh_postgresql_database_at_once(
        postgres: PostgresCluster) -> None:
    url = postgres.new_database("firstopen")
    for result in _open_together(url):
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert _revision(url) == HEAD_REVISION


def test_processes_opening_a_fresh_sqlite_file_at_once(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    for result in _open_together(url):
        assert result.returncode == 0, result.stderr
    assert _revision(url) == HEAD_REVISION
