"""Which runs other processes changed: the desktop app's window on a shared database.

Contract: ``RunFeed(database)`` starts watching; ``changed()`` returns, without waiting, the ids of
the runs that got new events (or were created) since the last call — by this process or
another. On PostgreSQL the database sends ``NOTIFY flowdesk, '<run id>'`` from triggers on
``runs`` and ``run_events`` (migration 0008), in the writing transaction, so a notification
arrives exactly when the write is visible and costs the writer nothing; other writes that
matter to the desks (a decision) call ``notify_run``. The feed LISTENs on a connection of
its own (``fileno()`` lets the caller wake when one arrives) and ``changed()`` only drains
what arrived, no query. On SQLite, which has no notifications, ``changed()`` polls: one
indexed query for the events written since the last look (SQLite commits one writer at a
time, so event ids grow in commit order).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.tables import run_events

__all__ = ["CHANNEL", "QUEUE_CHANNEL", "RunFeed", "notify_run"]

log = logging.getLogger(__name__)

CHANNEL = "flowdesk"  # a run changed (the desks follow it)
QUEUE_CHANNEL = "flowdesk_queue"  # a run was queued (the workers take it)


def notify_run(conn: sa.Connection, run_id: str, channel: str = CHANNEL) -> None:
    """PostgreSQL: tell the listeners of ``channel`` that this run changed, when this
    transaction commits (several notifications of one run in one transaction arrive as
    one)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(channel, run_id)))


class RunFeed:
    """``channel``: CHANNEL for every change of a run, QUEUE_CHANNEL for runs queued (on
    SQLite both are polled as new events)."""

    def __init__(self, database: Database, channel: str = CHANNEL) -> None:
        self._db = database
        self._channel = channel
        self._listener: Any = None  # PostgreSQL: a psycopg connection of its own
        self._last_id = 0
        if database.db.dialect.name == "postgresql":
            self._listen()
        else:
            with guard(database.url), database.read() as conn:
                self._last_id = int(conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(run_events.c.id), 0))).scalar())

    @property
    def pushes(self) -> bool:
        """True when changes are pushed (PostgreSQL), False when ``changed()`` polls."""
        return self._db.db.dialect.name == "postgresql"

    def fileno(self) -> int | None:
        """The listening socket (readable when a notification arrived), or None."""
        return None if self._listener is None else int(self._listener.fileno())

    def _listen(self) -> None:
        engine = self._db.db
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        try:
            conn = engine.dialect.loaded_dbapi.connect(*args, **{**kwargs, "autocommit": True})
            conn.execute(f"LISTEN {self._channel}")
        except Exception as exc:  # the desk then learns of runs on reopening them
            log.warning("cannot listen for changes on %s: %s", self._db.url, exc)
            return
        self._listener = conn

    def changed(self) -> set[str]:
        if self.pushes:
            return self._drain()
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(
                sa.select(run_events.c.run_id, sa.func.max(run_events.c.id))
                .where(run_events.c.id > self._last_id).group_by(run_events.c.run_id)).all()
        for _run_id, last in rows:
            self._last_id = max(self._last_id, int(last))
        return {str(run_id) for run_id, _ in rows}

    def _drain(self) -> set[str]:
        if self._listener is None or self._listener.closed:
            self._listen()  # lost (the server restarted): listen again
            if self._listener is None:
                return set()
        try:
            return {n.payload for n in self._listener.notifies(timeout=0)
                    if n.channel == self._channel}
        except Exception as exc:
            log.warning("lost the change feed of %s: %s", self._db.url, exc)
            self.close()
            return set()

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None
