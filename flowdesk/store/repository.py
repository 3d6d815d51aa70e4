"""The repository: every read and write of flowdesk's data goes through ``Store``.

Writes of one engine tick arrive together in ``write`` and are committed in one transaction.
A run belongs to a stored workflow by id (``runs.workflow_id``), so renaming keeps its
history; workflow ids are never reused, so a new workflow given an old name starts empty.
Runs are claimed atomically (compare-and-set on ``owner``/``lease_until``); a run whose owner
process is gone (same host, pid no longer alive) can be claimed at once.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy import exc as exc_mod

from flowdesk.model.errors import NotFound, StoreError
from flowdesk.model.events import RunEvent
from flowdesk.model.run import AttemptRecord, RunSnapshot, StepRunSnapshot, WorkflowInfo
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.workflow import Workflow
from flowdesk.store.control import ControlMixin
from flowdesk.store.database import create_db_engine, database_url, guard, migrate
from flowdesk.store.tables import run_events, runs, step_runs, workflow_versions, workflows

__all__ = ["Store", "open_store"]

_JSON_STEP_FIELDS = ("output", "attempt_log", "state")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` (``host:pid:tag``) names a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _step_snapshot(s: Any) -> StepRunSnapshot:
    """A step_runs row as a snapshot; rows written by flowdesk itself are built without a
    validation pass."""
    return StepRunSnapshot.model_construct(
        step_id=s.step_id, status=StepStatus(s.status), output=_loads(s.output),
        error=s.error, attempts=s.attempts,
        attempt_log=[AttemptRecord.model_construct(**{
            "started_at": None, "finished_at": None, "error": None, **a})
            for a in (_loads(s.attempt_log) or [])],
        started_at=s.started_at, finished_at=s.finished_at,
        state=_loads(s.state) or {}, branch=s.branch,
    )


class Store(ControlMixin):
    def __init__(self, url: str, *, busy_timeout: float = 10.0) -> None:
        self.url = url
        with guard(url):
            self.engine = create_db_engine(url, busy_timeout)
            migrate(self.engine)
        self._writer = self.engine.execution_options(flowdesk_write=True)
        self._fast = _SQLiteWriter(self.engine, url) if url.startswith("sqlite") else None

    def close(self) -> None:
        if self._fast is not None:
            self._fast.close()
        self.engine.dispose()

    def _read(self) -> Any:
        return self.engine.connect()

    def _write(self) -> Any:
        return self._writer.begin()

    # -- workflows ---------------------------------------------------------------------------
    def save_workflow(self, workflow: Workflow, *, new_version: bool = False) -> int:
        """Insert or update the workflow of that name; return its version number.
        ``new_version`` records the definition as a new numbered version."""
        definition = workflow.to_json(indent=None)
        now = time.time()
        with guard(self.url), self._write() as conn:
            row = conn.execute(
                sa.select(workflows.c.id, workflows.c.version)
                .where(workflows.c.name == workflow.name)
            ).first()
            if row is None:
                wf_id = conn.execute(
                    workflows.insert().values(
                        id=_next_workflow_id(conn),
                        name=workflow.name, description=workflow.description,
                        definition=definition, version=1, created_at=now, updated_at=now,
                    )
                ).inserted_primary_key[0]
                version = 1
                new_version = True
            else:
                wf_id, version = row
                if new_version:
                    version += 1
                conn.execute(
                    workflows.update().where(workflows.c.id == wf_id).values(
                        description=workflow.description, definition=definition,
                        version=version, updated_at=now,
                    )
                )
            if new_version:
                conn.execute(workflow_versions.insert().values(
                    workflow_id=wf_id, version=version, definition=definition, created_at=now))
        return int(version)

    def get_workflow(self, name: str) -> tuple[Workflow, int]:
        with guard(self.url), self._read() as conn:
            row = conn.execute(
                sa.select(workflows.c.definition, workflows.c.version)
                .where(workflows.c.name == name)
            ).first()
        if row is None:
            raise NotFound(f"no workflow named '{name}' in {self.url}")
        return Workflow.from_json(row.definition, f"stored workflow '{name}'"), int(row.version)

    def get_workflow_version(self, name: str, version: int) -> Workflow:
        with guard(self.url), self._read() as conn:
            row = conn.execute(
                sa.select(workflow_versions.c.definition)
                .join(workflows, workflows.c.id == workflow_versions.c.workflow_id)
                .where(workflows.c.name == name, workflow_versions.c.version == version)
            ).first()
        if row is None:
            raise NotFound(f"workflow '{name}' has no version {version}")
        return Workflow.from_json(row.definition, f"workflow '{name}' v{version}")

    def has_workflow(self, name: str) -> bool:
        with guard(self.url), self._read() as conn:
            return conn.execute(
                sa.select(workflows.c.id).where(workflows.c.name == name)
            ).first() is not None

    def list_workflows(self) -> list[WorkflowInfo]:
        with guard(self.url), self._read() as conn:
            rows = conn.execute(
                sa.select(workflows.c.name, workflows.c.description, workflows.c.version,
                          workflows.c.created_at, workflows.c.updated_at)
                .order_by(workflows.c.name)
            ).all()
        return [WorkflowInfo(**row._mapping) for row in rows]

    def workflow_id(self, name: str) -> int | None:
        with guard(self.url), self._read() as conn:
            value = conn.execute(
                sa.select(workflows.c.id).where(workflows.c.name == name)).scalar()
        return None if value is None else int(value)

    def get_workflow_by_id(self, workflow_id: int) -> tuple[Workflow, int]:
        """The stored workflow with that id (whatever its name is now) and its version."""
        with guard(self.url), self._read() as conn:
            row = conn.execute(
                sa.select(workflows.c.name, workflows.c.definition, workflows.c.version)
                .where(workflows.c.id == workflow_id)
            ).first()
        if row is None:
            raise NotFound("the workflow of this run was deleted")
        return (Workflow.from_json(row.definition, f"stored workflow '{row.name}'"),
                int(row.version))

    def delete_workflow(self, name: str) -> None:
        with guard(self.url), self._write() as conn:
            result = conn.execute(workflows.delete().where(workflows.c.name == name))
        if result.rowcount == 0:
            raise NotFound(f"no workflow named '{name}'")

    def rename_workflow(self, old: str, new: str) -> None:
        with guard(self.url), self._write() as conn:
            row = conn.execute(
                sa.select(workflows.c.id, workflows.c.definition)
                .where(workflows.c.name == old)
            ).first()
            if row is None:
                raise NotFound(f"no workflow named '{old}'")
            if conn.execute(sa.select(workflows.c.id).where(workflows.c.name == new)).first():
                raise StoreError(f"a workflow named '{new}' already exists")
            data = json.loads(row.definition)
            data["name"] = new
            conn.execute(workflows.update().where(workflows.c.id == row.id).values(
                name=new, definition=_dumps(data), updated_at=time.time()))
            # its runs stay its own, and are listed under the name it has now
            conn.execute(runs.update().where(runs.c.workflow_id == row.id)
                         .values(workflow_name=new))

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        workflow: Workflow,
        input: Any,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
    ) -> tuple[RunSnapshot, bool]:
        run_id = uuid.uuid4().hex
        now = time.time()
        try:
            with guard(self.url), self._write() as conn:
                # a run of a stored workflow (it has a version) belongs to it; from a file,
                # to none
                workflow_id = None if workflow_version is None else conn.execute(
                    sa.select(workflows.c.id).where(workflows.c.name == workflow.name)
                ).scalar()
                conn.execute(runs.insert().values(
                    id=run_id, workflow_name=workflow.name, workflow_id=workflow_id,
                    workflow_version=workflow_version,
                    definition=workflow.to_json(indent=None), status=RunStatus.PENDING.value,
                    input=_dumps(input), created_at=now, idempotency_key=idempotency_key,
                    parent_run_id=parent_run_id, parent_step_id=parent_step_id,
                ))
                if workflow.nodes:
                    conn.execute(step_runs.insert(), [
                        {"run_id": run_id, "step_id": node.id,
                         "status": StepStatus.PENDING.value, "attempts": 0}
                        for node in workflow.nodes
                    ])
        except exc.IntegrityError:
            if idempotency_key is None:
                raise
            existing = self.find_run_by_key(idempotency_key)
            if existing is None:
                raise
            return existing, False
        return self.get_run(run_id), True

    def workflow_of_run(self, run_id: str) -> tuple[Workflow, int] | None:
        """The current saved definition of the workflow a run belongs to, with its version
        (None: the run came from a file). NotFound if that workflow was deleted."""
        with guard(self.url), self._read() as conn:
            row = conn.execute(sa.select(runs.c.workflow_id).where(runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"no run with id '{run_id}'")
        return None if row.workflow_id is None else self.get_workflow_by_id(row.workflow_id)

    def replace_run_definition(self, run_id: str, workflow: Workflow,
                               version: int | None) -> None:
        """Make a finished run go on with another definition (a retry with the current
        workflow): steps new in it get pending rows, steps no longer in it are dropped
        (their history stays in the run's events)."""
        with guard(self.url), self._write() as conn:
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

    def find_run_by_key(self, key: str) -> RunSnapshot | None:
        with guard(self.url), self._read() as conn:
            run_id = conn.execute(
                sa.select(runs.c.id).where(runs.c.idempotency_key == key)
            ).scalar()
        return None if run_id is None else self.get_run(run_id)

    def resolve_run_id(self, prefix: str) -> str:
        """A full run id from a unique prefix of it (as the CLI prints short ids)."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise NotFound("no run id given")
        with guard(self.url), self._read() as conn:
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
        with guard(self.url), self._read() as conn:
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
        with guard(self.url), self._read() as conn:
            row = conn.execute(sa.select(step_runs).where(
                step_runs.c.run_id == run_id, step_runs.c.step_id == step_id)).first()
        return None if row is None else _step_snapshot(row)

    def run_status(self, run_id: str) -> RunStatus:
        with guard(self.url), self._read() as conn:
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
        with guard(self.url), self._read() as conn:
            rows = conn.execute(query).all()
        return [RunSnapshot(**{**row._mapping, "status": RunStatus(row.status)}) for row in rows]

    def last_seq(self, run_id: str) -> int:
        with guard(self.url), self._read() as conn:
            value = conn.execute(
                sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == run_id)
            ).scalar()
        return int(value or 0)

    def get_events(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        with guard(self.url), self._read() as conn:
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
        run_values = {k: (v.value if isinstance(v, RunStatus) else v)
                      for k, v in run_fields.items()}
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for step_id, fields in step_fields.items():
            columns = tuple(sorted(fields))
            row = []
            for key in columns:
                value = fields[key]
                if key in _JSON_STEP_FIELDS:
                    value = None if value is None else _dumps(value)
                elif isinstance(value, StepStatus):
                    value = value.value
                row.append(value)
            row += [run_id, step_id]
            groups.setdefault(columns, []).append(tuple(row))
        event_rows = [(e.run_id, e.seq, e.type.value, e.step_id, e.ts, _dumps(e.payload))
                      for e in events]
        if self._fast is not None:
            self._fast.write(run_id, run_values, groups, event_rows)
            return
        with guard(self.url), self._write() as conn:
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

    # -- ownership ---------------------------------------------------------------------------
    def claim_run(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        """Atomically take (or renew) ownership of a run. False if a live owner holds it."""
        now = time.time()
        with guard(self.url), self._write() as conn:
            row = conn.execute(
                sa.select(runs.c.owner, runs.c.lease_until).where(runs.c.id == run_id)
            ).first()
            if row is None:
                raise NotFound(f"no run with id '{run_id}'")
            current, lease_until = row
            free = (
                current is None
                or current == owner
                or (lease_until or 0) < now
                or owner_is_dead(current)
            )
            if not free:
                return False
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                owner=owner, lease_until=now + lease_seconds))
        return True

    def is_owned(self, run_id: str) -> bool:
        """True when a live process holds the run (its lease is valid and it is not dead)."""
        with guard(self.url), self._read() as conn:
            row = conn.execute(
                sa.select(runs.c.owner, runs.c.lease_until).where(runs.c.id == run_id)
            ).first()
        if row is None or row.owner is None:
            return False
        return (row.lease_until or 0) >= time.time() and not owner_is_dead(row.owner)

    def release_run(self, run_id: str, owner: str) -> None:
        with guard(self.url), self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.owner == owner)
                         .values(owner=None, lease_until=None))

    def request_cancel(self, run_id: str, reason: str) -> None:
        with guard(self.url), self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id)
                         .values(cancel_requested=reason))

    def cancel_requested(self, run_id: str) -> str | None:
        with guard(self.url), self._read() as conn:
            value = conn.execute(
                sa.select(runs.c.cancel_requested).where(runs.c.id == run_id)
            ).scalar()
        return None if value is None else str(value)


def _next_workflow_id(conn: sa.Connection) -> int:
    """An id no workflow ever had: runs of a deleted workflow keep its id, and must not
    become the history of a new one (SQLite would reuse the highest id)."""
    highest = conn.execute(sa.select(sa.func.max(workflows.c.id))).scalar() or 0
    linked = conn.execute(sa.select(sa.func.max(runs.c.workflow_id))).scalar() or 0
    return int(max(highest, linked)) + 1


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

    def write(self, run_id: str, run_values: dict[str, Any],
              groups: dict[tuple[str, ...], list[tuple[Any, ...]]],
              event_rows: list[tuple[Any, ...]]) -> None:
        cur = self._raw.cursor()
        with guard(self.url):
            try:
                cur.execute("BEGIN IMMEDIATE")
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


def open_store(target: str | Path | None = None, *, busy_timeout: float = 10.0) -> Store:
    """Open (creating and migrating as needed) the database at a path or SQLAlchemy URL;
    ``None`` means ``$FLOWDESK_DB`` or the default file in the user's data folder.
    ``busy_timeout`` is how long a write waits for another program's lock."""
    return Store(database_url(target), busy_timeout=busy_timeout)
