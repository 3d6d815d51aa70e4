"""PostgreSQL for real (a throw-away cluster): ``postgres://`` URLs, and read_only enforced by
a READ ONLY transaction. Skipped when the PostgreSQL binaries or psycopg are not installed
(``pip install 'flowdesk[postgres]'`` and apt ``postgresql``)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from flowdesk.store import open_store
from tests.helpers.registry import wf

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = [
    pytest.mark.skipif(not BIN, reason="PostgreSQL binaries not installed"),
    pytest.mark.skipif(shutil.which("runuser") is None and os.geteuid() == 0,
                       reason="runuser missing"),
]
psycopg = pytest.importorskip("psycopg")


def _as_postgres(*cmd: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="flowdesk-pg-"))
    os.chmod(root, 0o777)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    os.chmod(sock, 0o777)
    port = "55432"
    bin_dir = BIN[-1]
    _as_postgres(f"{bin_dir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
    _as_postgres(f"{bin_dir}/pg_ctl", "-D", str(data), "-o",
                 f"-p {port} -k {sock} -c listen_addresses=''", "-l", str(root / "log"),
                 "-w", "start")
    try:
        _as_postgres(f"{bin_dir}/createdb", "-h", str(sock), "-p", port, "shop")
        yield f"postgres://postgres@/shop?host={sock}&port={port}"
    finally:
        _as_postgres(f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_the_store_opens_a_postgres_url(pg_url: str) -> None:
    store = open_store(pg_url)  # the spelling hosts hand out, mapped to psycopg
    try:
        assert store.engine.dialect.driver == "psycopg"
        store.save_workflow(Workflow.model_validate(wf([{"id": "a"}], name="on-pg")))
        assert [w.name for w in store.list_workflows()] == ["on-pg"]
    finally:
        store.close()


async def test_read_only_is_a_read_only_transaction(engine: Engine, pg_url: str) -> None:
    async def query(sql: str, read_only: bool = True):
        run = await engine.run(Workflow.model_validate(wf([{
            "id": "q", "type": "database_query",
            "config": {"url": pg_url, "query": sql, "read_only": read_only}}])))
        return run.steps["q"]

    assert (await query("CREATE TABLE IF NOT EXISTS orders (id serial, total int)",
                        read_only=False)).status.value == "completed"
    assert (await query("INSERT INTO orders (total) VALUES (1), (2)",
                        read_only=False)).output["rowcount"] == 2
    for sql in ("DELETE FROM orders", "INSERT INTO orders (total) VALUES (3) RETURNING id",
                "WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d",
                "SELECT nextval('orders_id_seq')", "CREATE TABLE evil (x int)"):
        step = await query(sql)
        assert step.status.value == "failed", sql
        assert "read_only is set but the statement changes data, refused before it ran" \
            in step.error, step.error
    step = await query("SELECT count(*) AS n, sum(total) AS t FROM orders")
    assert step.output["rows"] == [{"n": 2, "t": 3}]
    # the pooled connection is not left read-only
    assert (await query("DELETE FROM orders WHERE total = 1",
                        read_only=False)).output["rowcount"] == 1
