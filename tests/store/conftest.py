"""The store's tests run on both databases flowdesk supports: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowdesk.store import Store, open_store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()
