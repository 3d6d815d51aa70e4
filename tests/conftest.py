from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from flowdesk.engine import Engine
from flowdesk.store import Store, open_store
from tests.helpers.httpserver import LoopbackServer
from tests.helpers.postgres import PostgresCluster, start_cluster
from tests.helpers.registry import Journal, small_registry


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user's data folder."""
    monkeypatch.setenv("FLOWDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLOWDESK_DB", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "flowdesk.db")
    yield s
    s.close()


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
async def engine(store: Store, journal: Journal) -> AsyncIterator[Engine]:
    eng = Engine(store, small_registry(journal), poll_interval=0.05)
    yield eng
    await eng.aclose()


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL server for the session (skipped where it cannot start here;
    a failure under CI=true, which installs it)."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind: a SQLite file, and a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flowdesk.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()
