"""Stored workflows: save (with numbered versions), read, list, rename, delete.

Contract: a workflow is stored by name with a stable integer id that is never reused (the
runs of a deleted workflow keep its id and must not become the history of a new one);
renaming keeps its runs, which are then listed under the new name. ``NotFound`` names what
is missing; a rename onto an existing name is a ``StoreError``.
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from flowdesk.model.errors import NotFound, StoreError
from flowdesk.model.jsontext import dump_json
from flowdesk.model.run import WorkflowInfo
from flowdesk.model.workflow import Workflow
from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.tables import runs, workflow_versions, workflows

__all__ = ["WorkflowRepository", "dumps"]


# the JSON text the store keeps (compact, unicode as is)
dumps = dump_json


class WorkflowRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save_workflow(self, workflow: Workflow, *, new_version: bool = False) -> int:
        """Insert or update the workflow of that name; return its version number.
        ``new_version`` records the definition as a new numbered version."""
        definition = workflow.to_json(indent=None)
        now = time.time()
        with guard(self._db.url), self._db.write() as conn:
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
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(
                sa.select(workflows.c.definition, workflows.c.version)
                .where(workflows.c.name == name)
            ).first()
        if row is None:
            raise NotFound(f"no workflow named '{name}' in {self._db.url}")
        return Workflow.from_json(row.definition, f"stored workflow '{name}'"), int(row.version)

    def get_workflow_version(self, name: str, version: int) -> Workflow:
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(
                sa.select(workflow_versions.c.definition)
                .join(workflows, workflows.c.id == workflow_versions.c.workflow_id)
                .where(workflows.c.name == name, workflow_versions.c.version == version)
            ).first()
        if row is None:
            raise NotFound(f"workflow '{name}' has no version {version}")
        return Workflow.from_json(row.definition, f"workflow '{name}' v{version}")

    def has_workflow(self, name: str) -> bool:
        with guard(self._db.url), self._db.read() as conn:
            return conn.execute(
                sa.select(workflows.c.id).where(workflows.c.name == name)
            ).first() is not None

    def list_workflows(self) -> list[WorkflowInfo]:
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(
                sa.select(workflows.c.name, workflows.c.description, workflows.c.version,
                          workflows.c.created_at, workflows.c.updated_at)
                .order_by(workflows.c.name)
            ).all()
        return [WorkflowInfo(**row._mapping) for row in rows]

    def workflow_id(self, name: str) -> int | None:
        with guard(self._db.url), self._db.read() as conn:
            value = conn.execute(
                sa.select(workflows.c.id).where(workflows.c.name == name)).scalar()
        return None if value is None else int(value)

    def get_workflow_by_id(self, workflow_id: int) -> tuple[Workflow, int]:
        """The stored workflow with that id (whatever its name is now) and its version."""
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(
                sa.select(workflows.c.name, workflows.c.definition, workflows.c.version)
                .where(workflows.c.id == workflow_id)
            ).first()
        if row is None:
            raise NotFound("the workflow of this run was deleted")
        return (Workflow.from_json(row.definition, f"stored workflow '{row.name}'"),
                int(row.version))

    def delete_workflow(self, name: str) -> None:
        with guard(self._db.url), self._db.write() as conn:
            result = conn.execute(workflows.delete().where(workflows.c.name == name))
        if result.rowcount == 0:
            raise NotFound(f"no workflow named '{name}'")

    def rename_workflow(self, old: str, new: str) -> None:
        with guard(self._db.url), self._db.write() as conn:
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
                name=new, definition=dumps(data), updated_at=time.time()))
            # its runs stay its own, and are listed under the name it has now
            conn.execute(runs.update().where(runs.c.workflow_id == row.id)
                         .values(workflow_name=new))


def _next_workflow_id(conn: sa.Connection) -> int:
    """An id no workflow ever had: runs of a deleted workflow keep its id, and must not
    become the history of a new one (SQLite would reuse the highest id)."""
    highest = conn.execute(sa.select(sa.func.max(workflows.c.id))).scalar() or 0
    linked = conn.execute(sa.select(sa.func.max(runs.c.workflow_id))).scalar() or 0
    return int(max(highest, linked)) + 1
