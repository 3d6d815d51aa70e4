"""Runs, their steps and their events: create, read, list, and the engine's tick writes.

Contract: ``create_run`` records a pending run with a pending row per step (owned by the
process that will execute it, or by none: then it is queued for any worker); with an
idempotency key that a run of the same workflow used before it returns that run instead
(``created`` False); keys are unique per workflow, not across workflows.
``write`` commits one engine tick (run fields, step fields, events) in one transaction,
``write_many`` the ticks of several runs in one; on SQLite they go through one dedicated DBAPI
connection with cached SQL (the hot path).
Reads return model snapshots; rows flowdesk wrote itself are built without a validation
pass. ``prune_runs`` deletes finished top-level runs (their steps, events and children go
with them).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy import exc as exc_mod

from flowdesk.model.errors import NotFound
from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot, StepRunSnapshot, attempt_records
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.trusted import collector_paused, trusted
from flowdesk.model.workflow import Workflow
from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.tables import external_events, run_events, runs, step_runs, workflows
from flowdesk.store.workflows import WorkflowRepository, dumps

__all__ = ["RunRepository", "idempotency_scope"]

_JSON_STEP_FIELDS = ("output", "attempt_log", "state")


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _step_snapshot(s: Any) -> StepRunSnapshot:
    """A step_runs row as a snapshot; rows written by flowdesk itself are built without a
    validation pass."""
    return trusted(StepRunSnapshot, {
        "step_id": s.step_id, "status": StepStatus(s.status), "output": _loads(s.output),
        "error": s.error, "attempts": s.attempts,
        "attempt_log": attempt_records(_loads(s.attempt_log) or []),
        "started_at": s.started_at, "finished_at": s.finished_at,
        "state": _loads(s.state) or {}, "branch": s.branch})


def idempotency_scope(workflow_id: int | None, workflow_name: str) -> str:
    """Whose idempotency keys a run shares: its stored workflow's (by id, so a rename keeps
    them), or for a run from a file, the runs from files of that name."""
    return f"file:{workflow_name}" if workflow_id is None else f"workflow:{workflow_id}"


class RunRepository:
    def __init__(self, db: Database, workflows: WorkflowRepository) -> None:
        self._db = db
        self._workflows = workflows
        url = db.url
        self._fast = _SQLiteWriter(db.db, url) if url.startswith("sqlite") else None

    def close(self) -> None:
        if self._fast is not None:
            self._fast.close()

    def create_run(
        self,
        workflow: Workflow,
        input: Any,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
        owner: str | None = None,
        lease_until: float | None = None,
    ) -> tuple[RunSnapshot, bool]:
        run_id = uuid.uuid4().hex
        now = time.time()
        scope: str | None = None
        definition = workflow.to_dict()
        input_text = dumps(input)
        try:
            with guard(self._db.url), self._db.write() as conn:
                # a run of a stored workflow (it has a version) belongs to it; from a file,
                # to none
                workflow_id = None if workflow_version is None else conn.execute(
                    sa.select(workflows.c.id).where(workflows.c.name == workflow.name)
                ).scalar()
                if idempotency_key is not None:
                    scope = idempotency_scope(workflow_id, workflow.name)
                conn.execute(runs.insert().values(
                    id=run_id, workflow_name=workflow.name, workflow_id=workflow_id,
                    workflow_version=workflow_version,
                    definition=dumps(definition),
                    status=RunStatus.PENDING.value, input=input_text, created_at=now,
                    idempotency_key=idempotency_key, idempotency_scope=scope, owner=owner,
                    lease_until=lease_until,
                    parent_run_id=parent_run_id, parent_step_id=parent_step_id,
                ))
                pending = StepStatus.PENDING.value
                if workflow.nodes and self._fast is not None:
                    # SQLite: the driver's executemany on plain tuples, without building a
                    # parameter dict per step (a third of a 10,000-step run's creation)
                    conn.exec_driver_sql(
                        "INSERT INTO step_runs (run_id, step_id, status, attempts) "
                        "VALUES (?, ?, ?, 0)", [(run_id, node.id, pending)
                                                for node in workflow.nodes])
                elif workflow.nodes:
                    conn.execute(step_runs.insert(), [
                        {"run_id": run_id, "step_id": node.id, "status": pending,
                         "attempts": 0} for node in workflow.nodes])
        except exc.IntegrityError:
            if idempotency_key is None or scope is None:
                raise
            existing = self.find_run_by_key(scope, idempotency_key)
            if existing is None:
                raise
            return existing, False
        # what get_run would read back, built from what was just written (every step
        # pending) rather than read and parsed again: no validation pass, as for our rows
        with collector_paused():
            return RunSnapshot.model_construct(
                id=run_id, workflow_name=workflow.name, workflow_id=workflow_id,
                workflow_version=workflow_version, status=RunStatus.PENDING,
                input=_loads(input_text),  # as read back: JSON values only
                error=None, created_at=now, started_at=None, finished_at=None,
                active_seconds=None, idempotency_key=idempotency_key,
                parent_run_id=parent_run_id, parent_step_id=parent_step_id, attempt=1,
                definition=definition,
                steps={node.id: trusted(StepRunSnapshot, {
                    "step_id": node.id, "status": StepStatus.PENDING, "output": None,
                    "error": None, "attempts": 0, "attempt_log": [], "started_at": None,
                    "finished_at": None, "state": {}, "branch": None})
                    for node in workflow.nodes}), True

    def workflow_of_run(self, run_id: str) -> tuple[Workflow, int] | None:
        """The current saved definition of the workflow a run belongs to, with its version
        (None: the run came from a file). NotFound if that workflow was deleted."""
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(sa.select(runs.c.workflow_id).where(runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"no run with id '{run_id}'")
        if row.workflow_id is None:
            return None
        return self._workflows.get_workflow_by_id(row.workflow_id)

    def replace_run_definition(self, run_id: str, workflow: Workflow,
                               version: int | None) -> None:
        """Make a finished run go on with another definition (a retry with the current
        workflow): steps new in it get pending rows, steps no longer in it are dropped
        (their history stays in the run's events)."""
        with guard(self._db.url), self._db.write() as conn:
            existing = set(conn.execute(
                sa.select(step_runs.c.step_id).where(step_runs.c.run_id == run_id)
            ).scalars())
            wanted = [n.id for n in workflow.nodes]
            gone = existing - set(wanted)
            if gone:
                conn.execute(step_runs.delete().where(step_runs.c.run_id == run_id,
                                                      step_runs.c.step_id.in_(gone)))
            new = [sid for sid in wanted if sid not in existing]
            if new:
                conn.execute(step_runs.insert(), [
                    {"run_id": run_id, "step_id": sid, "status": StepStatus.PENDING.value,
                     "attempts": 0} for sid in new])
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                definition=workflow.to_json(indent=None), workflow_version=version))

    def find_run_by_key(self, scope: str, key: str) -> RunSnapshot | None:
        """The run that used idempotency ``key`` in ``scope`` (see ``idempotency_scope``)."""
        with guard(self._db.url), self._db.read() as conn:
            run_id = conn.execute(
                sa.select(runs.c.id).where(runs.c.idempotency_scope == scope,
                                           runs.c.idempotency_key == key)
            ).scalar()
        return None if run_id is None else self.get_run(run_id)

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id from a unique prefix of it (as the CLI prints short ids)."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise NotFound("no run id given")
        with guard(self._db.url), self._db.read() as conn:
            ids = conn.execute(
                sa.select(runs.c.id).where(runs.c.id.like(prefix + "%")).limit(2)
            ).scalars().all()
        if not ids:
            raise NotFound(f"no run with id '{prefix}'")
        if len(ids) > 1:
            raise NotFound(f"run id '{prefix}' is ambiguous; give more characters")
        return str(ids[0])

    def get_run(self, run_id: str, *, steps: bool = True) -> RunSnapshot:
        """A run with its steps (``steps=False``: without reading the step rows)."""
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                raise NotFound(f"no run with id '{run_id}'")
            step_rows = conn.execute(
                sa.select(step_runs).where(step_runs.c.run_id == run_id)
            ).all() if steps else []
        definition = json.loads(row.definition)
        order = {n.get("id"): i for i, n in enumerate(definition.get("nodes", []))}
        step_map = {s.step_id: _step_snapshot(s) for s in
                    sorted(step_rows, key=lambda s: order.get(s.step_id, len(order)))}
        return RunSnapshot(
            id=row.id, workflow_name=row.workflow_name, workflow_id=row.workflow_id,
            workflow_version=row.workflow_version,
            status=RunStatus(row.status), input=_loads(row.input), error=row.error,
            created_at=row.created_at, started_at=row.started_at,
            finished_at=row.finished_at, active_seconds=row.active_seconds,
            idempotency_key=row.idempotency_key,
            parent_run_id=row.parent_run_id, parent_step_id=row.parent_step_id,
            attempt=row.attempt, definition=definition, steps=step_map,
        )

    def get_step_run(self, run_id: str, step_id: str) -> StepRunSnapshot | None:
        """One step of a run (None if the run has no such step)."""
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(sa.select(step_runs).where(
                step_runs.c.run_id == run_id, step_runs.c.step_id == step_id)).first()
        return None if row is None else _step_snapshot(row)

    def run_status(self, run_id: str) -> RunStatus:
        with guard(self._db.url), self._db.read() as conn:
            value = conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar()
        if value is None:
            raise NotFound(f"no run with id '{run_id}'")
        return RunStatus(value)

    def list_runs(
        self,
        *,
        workflow: str | None = None,
        status: Iterable[str] | None = None,
        limit: int | None = 50,
        parent_run_id: str | None = None,
    ) -> list[RunSnapshot]:
        """Runs newest first, without step details (``steps`` is empty)."""
        query = sa.select(
            runs.c.id, runs.c.workflow_name, runs.c.workflow_id, runs.c.workflow_version,
            runs.c.status,
            runs.c.error, runs.c.created_at, runs.c.started_at, runs.c.finished_at,
            runs.c.active_seconds, runs.c.idempotency_key, runs.c.parent_run_id,
            runs.c.parent_step_id, runs.c.attempt,
        ).order_by(runs.c.created_at.desc())
        if workflow is not None:
            # the runs of the stored workflow of that name (even from before a rename),
            # and runs from a file of that name that belong to no stored workflow
            wf_id = sa.select(workflows.c.id).where(workflows.c.name == workflow) \
                .scalar_subquery()
            query = query.where(sa.or_(
                runs.c.workflow_id == wf_id,
                sa.and_(runs.c.workflow_id.is_(None), runs.c.workflow_name == workflow)))
        if status is not None:
            query = query.where(runs.c.status.in_([str(s) for s in status]))
        if parent_run_id is not None:
            query = query.where(runs.c.parent_run_id == parent_run_id)
        if limit is not None:
            query = query.limit(limit)
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(query).all()
        return [RunSnapshot(**{**row._mapping, "status": RunStatus(row.status)}) for row in rows]

    def last_seq(self, run_id: str) -> int:
        with guard(self._db.url), self._db.read() as conn:
            value = conn.execute(
                sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == run_id)
            ).scalar()
        return int(value or 0)

    def get_events(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(
                sa.select(run_events).where(run_events.c.run_id == run_id,
                                            run_events.c.seq > after_seq)
                .order_by(run_events.c.seq)
            ).all()
        return [RunEvent(run_id=r.run_id, seq=r.seq, type=r.type, step_id=r.step_id, ts=r.ts,
                         payload=json.loads(r.payload)) for r in rows]

    def write(
        self,
        run_id: str,
        run_fields: dict[str, Any],
        step_fields: dict[str, dict[str, Any]],
        events: list[RunEvent],
    ) -> None:
        """Commit one tick of the engine: run changes, step changes and events, together."""
        self.write_many([(run_id, run_fields, step_fields, events)])

    def write_many(self, ticks: list[tuple[str, dict[str, Any], dict[str, dict[str, Any]],
                                           list[RunEvent]]]) -> None:
        """Commit the ticks of several runs (each as ``write`` takes it) in ONE transaction:
        all of them or none."""
        prepared = [_tick_rows(*tick) for tick in ticks]
        if self._fast is not None:
            self._fast.write(prepared)
            return
        with guard(self._db.url), self._db.write() as conn:
            for run_id, run_values, groups, event_rows in prepared:
                if run_values:
                    conn.execute(runs.update().where(runs.c.id == run_id).values(**run_values))
                for columns, rows in groups.items():
                    stmt = step_runs.update().where(
                        step_runs.c.run_id == sa.bindparam("b_run_id"),
                        step_runs.c.step_id == sa.bindparam("b_step_id"),
                    ).values({c: sa.bindparam(c) for c in columns})
                    conn.execute(stmt, [{**dict(zip(columns, r[:-2], strict=True)),
                                         "b_run_id": r[-2], "b_step_id": r[-1]} for r in rows])
                if event_rows:
                    conn.execute(run_events.insert(), [
                        dict(zip(("run_id", "seq", "type", "step_id", "ts", "payload"), r,
                                 strict=True)) for r in event_rows])

    def prune_runs(self, older_than: float, batch: int = 500) -> int:
        """Delete finished runs (and their steps and events) that ended before
        ``older_than`` (epoch seconds), in batches; then checkpoint the WAL."""
        total = 0
        finished = [RunStatus.COMPLETED.value, RunStatus.FAILED.value,
                    RunStatus.CANCELLED.value]
        while True:
            with guard(self._db.url), self._db.write() as conn:
                ids = conn.execute(
                    sa.select(runs.c.id).where(
                        runs.c.status.in_(finished),
                        sa.func.coalesce(runs.c.finished_at, runs.c.created_at) < older_than,
                        runs.c.parent_run_id.is_(None),
                    ).limit(batch)
                ).scalars().all()
                if not ids:
                    break
                # children, events and steps go with their run (ON DELETE CASCADE)
                conn.execute(run_events.delete().where(run_events.c.run_id.in_(ids)))
                conn.execute(runs.delete().where(runs.c.id.in_(ids)))
                total += len(ids)
        with guard(self._db.url), self._db.write() as conn:
            conn.execute(external_events.delete().where(
                sa.or_(external_events.c.expires_at < time.time(),
                       external_events.c.consumed_at < older_than)))
        self._db.checkpoint()
        return total


_Tick = tuple[str, dict[str, Any], dict[tuple[str, ...], list[tuple[Any, ...]]],
              list[tuple[Any, ...]]]


def _tick_rows(run_id: str, run_fields: dict[str, Any],
               step_fields: dict[str, dict[str, Any]], events: list[RunEvent]) -> _Tick:
    """One tick as rows: run values, step rows grouped by their columns, event rows."""
    run_values = {k: (v.value if isinstance(v, RunStatus) else v)
                  for k, v in run_fields.items()}
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for step_id, fields in step_fields.items():
        columns = tuple(sorted(fields))
        row = []
        for key in columns:
            value = fields[key]
            if key in _JSON_STEP_FIELDS:
                value = None if value is None else dumps(value)
            elif isinstance(value, StepStatus):
                value = value.value
            row.append(value)
        row += [run_id, step_id]
        groups.setdefault(columns, []).append(tuple(row))
    event_rows = [(e.run_id, e.seq, e.type.value, e.step_id, e.ts, dumps(e.payload))
                  for e in events]
    return run_id, run_values, groups, event_rows


class _SQLiteWriter:
    """The engine's hot path on SQLite: one dedicated DBAPI connection and cached SQL, so a
    tick costs its statements and one commit, without building SQLAlchemy statements."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.url = url
        self._raw = engine.raw_connection()  # a pooled connection with our PRAGMAs
        self._sql: dict[tuple[str, ...], str] = {}

    def _step_sql(self, columns: tuple[str, ...]) -> str:
        sql = self._sql.get(columns)
        if sql is None:
            sets = ", ".join(f"{c} = ?" for c in columns)
            sql = f"UPDATE step_runs SET {sets} WHERE run_id = ? AND step_id = ?"
            self._sql[columns] = sql
        return sql

    def write(self, prepared: list[_Tick]) -> None:
        cur = self._raw.cursor()
        with guard(self.url):
            try:
                cur.execute("BEGIN IMMEDIATE")
                for run_id, run_values, groups, event_rows in prepared:
                    if run_values:
                        columns = tuple(sorted(run_values))
                        sets = ", ".join(f"{c} = ?" for c in columns)
                        cur.execute(f"UPDATE runs SET {sets} WHERE id = ?",
                                    (*(run_values[c] for c in columns), run_id))
                    for columns, rows in groups.items():
                        cur.executemany(self._step_sql(columns), rows)
                    if event_rows:
                        cur.executemany(
                            "INSERT INTO run_events (run_id, seq, type, step_id, ts, payload) "
                            "VALUES (?, ?, ?, ?, ?, ?)", event_rows)
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._raw.in_transaction:
                    cur.execute("ROLLBACK")
                raise _wrap(exc) from None
            finally:
                cur.close()

    def close(self) -> None:
        self._raw.close()


def _wrap(exc: sqlite3.Error) -> Exception:
    """Map a DBAPI error to the SQLAlchemy error ``guard`` understands."""
    if isinstance(exc, sqlite3.IntegrityError):
        return exc_mod.IntegrityError("write", None, exc)
    if isinstance(exc, sqlite3.OperationalError):
        return exc_mod.OperationalError("write", None, exc)
    return exc_mod.DatabaseError("write", None, exc)
