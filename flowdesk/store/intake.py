"""Accepting runs durably, many at a time: the store's side of webhook group commit.

Contract:
- ``accept(batch, owner, lease_seconds)`` records every ``NewRun`` of the batch (a pending
  run row, claimed by ``owner`` — or by nobody when ``queued`` —, and a pending row per
  step) in ONE transaction: all of them or none (any failure raises ``StoreError`` and
  nothing of the batch is kept).
- ``sync()`` makes what was committed so far survive a power loss. On SQLite (WAL, whose
  commits run with ``synchronous=NORMAL``) it is one ``fdatasync`` of the WAL file, which
  flushes every frame committed before it (a checkpoint syncs the WAL before copying it, so
  nothing committed can be lost in between); it touches no SQLite lock, so it may run in a
  thread while the engine keeps writing. On PostgreSQL the commit itself is durable
  (``synchronous_commit`` is forced on for the transaction) and ``sync`` does nothing.
  A caller answers "accepted" only after ``accept`` and then ``sync`` returned.
- ``discard(run_ids)`` removes runs of a batch whose sync failed (nothing else touched them).
- ``routes_fingerprint()`` is one small read: ``(id, name, version, updated_at)`` of every
  stored workflow. It changes whenever a workflow is saved, published, renamed or deleted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from flowdesk.model.errors import StoreError
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.runs import _wrap
from flowdesk.store.tables import runs, step_runs
from flowdesk.store.workflows import dumps

__all__ = ["NewRun", "RunIntake"]


@dataclass(frozen=True, slots=True)
class NewRun:
    """One run to record: ``definition`` is the workflow's JSON text (shared by the runs of
    one route), ``step_ids`` its node ids."""

    run_id: str
    workflow_name: str
    workflow_id: int | None
    workflow_version: int | None
    definition: str
    step_ids: tuple[str, ...]
    input: Any
    created_at: float
    idempotency_key: str | None = None  # unique per workflow (idempotency_scope)
    idempotency_scope: str | None = None
    queued: bool = False  # owned by nobody: any worker of the database takes it


_RUN_SQL = ("INSERT INTO runs (id, workflow_name, workflow_id, workflow_version, definition, "
            "status, input, created_at, attempt, owner, lease_until, idempotency_key, "
            "idempotency_scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)")
_STEP_SQL = "INSERT INTO step_runs (run_id, step_id, status, attempts) VALUES (?, ?, ?, 0)"
_ROUTES_SQL = "SELECT id, name, version, updated_at FROM workflows ORDER BY id"


class RunIntake:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.url = db.url
        self.is_sqlite = db.url.startswith("sqlite")
        self._raw: Any = None
        self._wal: str | None = None
        self._lock = threading.Lock()  # the SQLite connection is used by one thread at a time
        if self.is_sqlite:
            path = sa.engine.make_url(db.url).database
            if path and path != ":memory:":
                self._wal = os.path.abspath(path) + "-wal"

    @property
    def commits_off_loop(self) -> bool:
        """True when ``accept`` is best called in a thread (a network round trip and the
        server's own sync); on SQLite it is a short local write, done in place."""
        return not self.is_sqlite

    def _conn(self) -> Any:
        if self._raw is None:
            self._raw = self._db.db.raw_connection()  # pooled, with our PRAGMAs
        return self._raw

    def routes_fingerprint(self) -> tuple[tuple[Any, ...], ...]:
        if not self.is_sqlite:
            with guard(self.url), self._db.read() as conn:
                return tuple(tuple(r) for r in conn.exec_driver_sql(_ROUTES_SQL).all())
        with self._lock, guard(self.url):
            cur = self._conn().cursor()
            try:
                return tuple(cur.execute(_ROUTES_SQL).fetchall())
            except sqlite3.Error as exc:
                raise _wrap(exc) from None
            finally:
                cur.close()

    def accept(self, batch: list[NewRun], owner: str, lease_seconds: float) -> None:
        if not batch:
            return
        lease = time.time() + lease_seconds
        pending = RunStatus.PENDING.value
        run_rows = [(r.run_id, r.workflow_name, r.workflow_id, r.workflow_version,
                     r.definition, pending, dumps(r.input), r.created_at,
                     None if r.queued else owner, None if r.queued else lease,
                     r.idempotency_key, r.idempotency_scope)
                    for r in batch]
        step_pending = StepStatus.PENDING.value
        step_rows = [(r.run_id, sid, step_pending) for r in batch for sid in r.step_ids]
        try:
            if self.is_sqlite:
                self._accept_sqlite(run_rows, step_rows)
            else:
                self._accept_sa(run_rows, step_rows)
        except sa.exc.IntegrityError as exc:
            raise StoreError(f"the runs could not be recorded ({exc.orig}); none was kept") \
                from None

    def _accept_sqlite(self, run_rows: list[tuple[Any, ...]],
                       step_rows: list[tuple[Any, ...]]) -> None:
        with self._lock, guard(self.url):
            raw = self._conn()
            cur = raw.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany(_RUN_SQL, run_rows)
                if step_rows:
                    cur.executemany(_STEP_SQL, step_rows)
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                if raw.in_transaction:
                    cur.execute("ROLLBACK")
                raise _wrap(exc) from None
            finally:
                cur.close()

    def _accept_sa(self, run_rows: list[tuple[Any, ...]],
                   step_rows: list[tuple[Any, ...]]) -> None:
        keys = ("id", "workflow_name", "workflow_id", "workflow_version", "definition",
                "status", "input", "created_at", "owner", "lease_until", "idempotency_key",
                "idempotency_scope")
        with guard(self.url), self._db.write() as conn:
            # the commit is the promise: durable before it returns, whatever the server's
            # default for synchronous_commit is
            conn.exec_driver_sql("SET LOCAL synchronous_commit = on")
            conn.execute(runs.insert(), [dict(zip(keys, r, strict=True)) for r in run_rows])
            if step_rows:
                conn.execute(step_runs.insert(), [
                    {"run_id": r, "step_id": s, "status": st, "attempts": 0}
                    for r, s, st in step_rows])

    def sync(self) -> None:
        """Make every commit so far durable (see the module's contract). Thread-safe."""
        if self._wal is None:
            return
        fd = os.open(self._wal, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def discard(self, run_ids: list[str]) -> None:
        if not run_ids:
            return
        with guard(self.url), self._db.write() as conn:
            conn.execute(runs.delete().where(runs.c.id.in_(run_ids)))

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
