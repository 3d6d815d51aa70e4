"""Numbered versions of a stored workflow, and which one is live.

Contract:
- ``workflows.definition`` is the DRAFT (what the editor autosaves); the PUBLISHED version
  is the ``workflow_versions`` row numbered ``workflows.version``, always the newest one.
  Runs started by name (CLI, API, webhooks, schedules, sub-workflows) use the published
  version; only ``--draft`` and the editor use the draft.
- ``publish`` makes a definition the draft and the live version. It records a new version
  only when the canonical content differs from the published one (sorted-key JSON of the
  definition, without its name, which is the workflow's identity; positions count, the
  autosave time does not): re-importing or re-publishing an unchanged workflow keeps the
  version it has. Nothing is ever deleted: ``restore`` publishes an old version's content
  as a new version.
- Unknown names and versions raise ``NotFound`` naming what is missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from flowdesk.model.errors import NotFound
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import guard
from flowdesk.store.tables import runs, workflow_versions, workflows

__all__ = ["VersionInfo", "VersionRepository", "canonical"]


def canonical(workflow: Workflow | str) -> str:
    """The content a version is compared by: the definition without its name, as JSON with
    sorted keys."""
    data = json.loads(workflow) if isinstance(workflow, str) else workflow.to_dict()
    data.pop("name", None)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created_at: float
    nodes: int
    note: str | None
    published: bool


class VersionRepository:
    def __init__(self, url: str, read: Callable[[], Any], write: Callable[[], Any]) -> None:
        self._url = url
        self._read = read
        self._write = write

    def publish(self, workflow: Workflow, note: str | None = None) -> tuple[int, bool]:
        """Make ``workflow`` (by its name) the draft and the published version; returns the
        published version number and whether a new version was recorded."""
        definition = workflow.to_json(indent=None)
        now = time.time()
        with guard(self._url), self._write() as conn:
            row = conn.execute(
                sa.select(workflows.c.id, workflows.c.version)
                .where(workflows.c.name == workflow.name)).first()
            if row is None:
                wf_id = _next_workflow_id(conn)
                conn.execute(workflows.insert().values(
                    id=wf_id, name=workflow.name, description=workflow.description,
                    definition=definition, version=1, created_at=now, updated_at=now))
                version = 1
            else:
                wf_id, version = row.id, int(row.version)
                live = conn.execute(
                    sa.select(workflow_versions.c.definition).where(
                        workflow_versions.c.workflow_id == wf_id,
                        workflow_versions.c.version == version)).scalar()
                unchanged = live is not None and canonical(live) == canonical(workflow)
                if not unchanged:
                    version += 1
                conn.execute(workflows.update().where(workflows.c.id == wf_id).values(
                    description=workflow.description, definition=definition,
                    version=version, updated_at=now))
                if unchanged:
                    return version, False
            conn.execute(workflow_versions.insert().values(
                workflow_id=wf_id, version=version, definition=definition, created_at=now,
                note=note or None))
        return version, True

    def published(self, name: str) -> tuple[Workflow, int]:
        """The live version of ``name`` and its number (named as the workflow is now)."""
        with guard(self._url), self._read() as conn:
            row = conn.execute(
                sa.select(workflows.c.definition.label("draft"), workflows.c.version,
                          workflow_versions.c.definition)
                .select_from(workflows.outerjoin(workflow_versions, sa.and_(
                    workflow_versions.c.workflow_id == workflows.c.id,
                    workflow_versions.c.version == workflows.c.version)))
                .where(workflows.c.name == name)).first()
        if row is None:
            raise NotFound(f"no workflow named '{name}' in {self._url}")
        text = row.definition if row.definition is not None else row.draft
        workflow = Workflow.from_json(text, f"workflow '{name}' v{row.version}")
        workflow.name = name
        return workflow, int(row.version)

    def draft(self, name: str) -> tuple[Workflow, int]:
        """The draft of ``name`` (what the editor shows) and the published version number."""
        with guard(self._url), self._read() as conn:
            row = conn.execute(
                sa.select(workflows.c.definition, workflows.c.version)
                .where(workflows.c.name == name)).first()
        if row is None:
            raise NotFound(f"no workflow named '{name}' in {self._url}")
        return Workflow.from_json(row.definition, f"stored workflow '{name}'"), int(row.version)

    def draft_differs(self, name: str) -> bool:
        """True when the draft's content is not the published version's."""
        draft, _ = self.draft(name)
        live, _ = self.published(name)
        return canonical(draft) != canonical(live)

    def version(self, name: str, version: int) -> Workflow:
        """Version ``version`` of ``name`` (named as the workflow is now)."""
        with guard(self._url), self._read() as conn:
            wf_id = conn.execute(
                sa.select(workflows.c.id).where(workflows.c.name == name)).scalar()
            if wf_id is None:
                raise NotFound(f"no workflow named '{name}' in {self._url}")
            text = conn.execute(sa.select(workflow_versions.c.definition).where(
                workflow_versions.c.workflow_id == wf_id,
                workflow_versions.c.version == version)).scalar()
        if text is None:
            raise NotFound(f"workflow '{name}' has no version {version} "
                           f"(see: flowdesk versions '{name}')")
        workflow = Workflow.from_json(text, f"workflow '{name}' v{version}")
        workflow.name = name
        return workflow

    def list_versions(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, oldest first."""
        with guard(self._url), self._read() as conn:
            head = conn.execute(sa.select(workflows.c.id, workflows.c.version)
                                .where(workflows.c.name == name)).first()
            if head is None:
                raise NotFound(f"no workflow named '{name}' in {self._url}")
            rows = conn.execute(
                sa.select(workflow_versions.c.version, workflow_versions.c.created_at,
                          workflow_versions.c.definition, workflow_versions.c.note)
                .where(workflow_versions.c.workflow_id == head.id)
                .order_by(workflow_versions.c.version)).all()
        return [VersionInfo(int(r.version), float(r.created_at),
                            len(json.loads(r.definition).get("nodes") or []), r.note,
                            int(r.version) == int(head.version)) for r in rows]

    def restore(self, name: str, version: int) -> tuple[int, bool]:
        """Publish version ``version``'s content as a new version (the draft becomes it too);
        returns the live version number and whether a new one was recorded."""
        workflow = self.version(name, version)
        return self.publish(workflow, note=f"restored from version {version}")


def _next_workflow_id(conn: sa.Connection) -> int:
    """An id no workflow ever had (runs of a deleted workflow keep theirs)."""
    highest = conn.execute(sa.select(sa.func.max(workflows.c.id))).scalar() or 0
    linked = conn.execute(sa.select(sa.func.max(runs.c.workflow_id))).scalar() or 0
    return int(max(highest, linked)) + 1
