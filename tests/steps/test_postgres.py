"""PostgreSQL for real (a throw-away cluster): ``postgres://`` URLs, and read_only enforced by
a READ ONLY transaction. The server is the session's throw-away cluster (tests/helpers/
postgres.py): skipped without PostgreSQL or psycopg on a developer's machine, a failure in CI."""

from __future__ import annotations

import pytest

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from flowdesk.store import open_store
from tests.helpers.postgres import PostgresCluster
from tests.helpers.registry import wf


@pytest.fixture
def pg_url(postgres: PostgresCluster) -> str:
    """A fresh database, spelled as hosts hand it out (``postgres://``, no driver named)."""
    url = postgres.new_database("shop")
    return "postgres://" + url.split("://", 1)[1]


def test_the_store_opens_a_postgres_url(pg_url: str) -> None:
    store = open_store(pg_url)  # the spelling hosts hand out, mapped to psycopg
    try:
        assert store.db.dialect.driver == "psycopg"
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
