"""database_query with read_only: refused statements are refused before they run, so they
have had no effect (no file created, nothing copied, no setting changed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from tests.helpers.registry import wf


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
    conn.executemany("INSERT INTO orders (customer, total) VALUES (?, ?)",
                     [("ada", 10), ("grace", 250), ("ada", 75), ("linus", 5)])
    conn.commit()
    conn.close()
    return path


async def query(engine: Engine, db: Path, sql: str, read_only: bool = True) -> Any:
    run = await engine.run(Workflow.model_validate(wf([{
        "id": "q", "type": "database_query",
        "config": {"url": f"sqlite:///{db}", "query": sql, "read_only": read_only}}])))
    return run.steps["q"]


def orders(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])


async def refused(engine: Engine, db: Path, sql: str) -> str:
    step = await query(engine, db, sql)
    assert step.status.value == "failed", step.output
    assert "read_only is set but the statement changes data, refused before it ran" \
        in step.error, step.error
    return step.error


async def test_attach_creates_no_file(engine: Engine, shop: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil.db"
    await refused(engine, shop, f"ATTACH DATABASE '{evil}' AS evil")
    assert not evil.exists()


async def test_vacuum_into_writes_nothing(engine: Engine, shop: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    await refused(engine, shop, f"VACUUM INTO '{copy}'")
    assert not copy.exists()
    await refused(engine, shop, "VACUUM")


async def test_pragma_writes_change_nothing(engine: Engine, shop: Path) -> None:
    await refused(engine, shop, "PRAGMA journal_mode=DELETE")
    await refused(engine, shop, "PRAGMA user_version = 7")
    with sqlite3.connect(shop) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)


async def test_data_changes_and_extensions_are_refused(engine: Engine, shop: Path) -> None:
    for sql in ("DELETE FROM orders",
                "WITH x AS (SELECT 1) INSERT INTO orders (customer, total) SELECT 'eve', 1 FROM x",
                "INSERT INTO orders (customer, total) VALUES ('eve', 1) RETURNING id",
                "UPDATE orders SET total = 0 RETURNING id",
                "CREATE TABLE t (x)", "DROP TABLE orders",
                "SELECT load_extension('/tmp/evil.so')"):
        await refused(engine, shop, sql)
    assert orders(shop) == 4


async def test_reads_still_work_and_the_connection_is_given_back_clean(
        engine: Engine, shop: Path) -> None:
    step = await query(engine, shop, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                     "FROM n WHERE i < 3) SELECT i, (SELECT COUNT(*) FROM orders)"
                                     " AS c FROM n")
    assert step.output["rows"] == [{"i": 1, "c": 4}, {"i": 2, "c": 4}, {"i": 3, "c": 4}]
    step = await query(engine, shop, "PRAGMA table_info(orders)")
    assert [r["name"] for r in step.output["rows"]] == ["id", "customer", "total"]
    step = await query(engine, shop, "PRAGMA user_version")
    assert step.output["rows"] == [{"user_version": 0}]
    await refused(engine, shop, "DELETE FROM orders")
    # the same pooled connection, without read_only, writes again
    step = await query(engine, shop, "DELETE FROM orders WHERE customer = 'linus'",
                       read_only=False)
    assert step.output["rowcount"] == 1
    assert orders(shop) == 3
