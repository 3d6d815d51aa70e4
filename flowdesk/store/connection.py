"""One opened database: its SQLAlchemy engine and the two ways to use it.

Contract: ``Database(url)`` opens (creating and migrating as needed) the database at a
SQLAlchemy URL; ``read()`` is a connection for queries, ``write()`` a transaction that
commits on leaving the ``with`` block (``BEGIN IMMEDIATE`` on SQLite). The repositories share
one ``Database``; none of them opens connections any other way.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowdesk.store.database import create_db_engine, guard, migrate

__all__ = ["Database"]


class Database:
    def __init__(self, url: str, *, busy_timeout: float = 10.0) -> None:
        self.url = url
        with guard(url):
            self.db: sa.Engine = create_db_engine(url, busy_timeout)
            try:
                migrate(self.db)
            except BaseException:
                self.db.dispose()  # a database it cannot open keeps no connection open
                raise
        self._writer = self.db.execution_options(flowdesk_write=True)

    def read(self) -> Any:
        return self.db.connect()

    def write(self) -> Any:
        return self._writer.begin()

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file so it does not keep growing."""
        if not self.url.startswith("sqlite"):
            return
        with guard(self.url), self.db.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.db.dispose()
