"""The app's side of versions: the list, the difference of a version from the open draft,
whether the draft differs from the live version, and Restore as one undo step.

Contract:
- ``ReplaceContentCommand(doc, workflow)`` replaces the document's steps, edges, notes,
  description, input schema and settings with ``workflow``'s (the name stays the open
  workflow's); undo puts the previous content back exactly. It goes through the document's
  mutation methods only, so the canvas follows as for any edit.
- ``WorkflowVersions(store)`` reads versions for the open document; ``draft_differs(doc)``
  compares the document with the live version by canonical content, reading the store only
  when the live version number changes.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from flowdesk.document.document import WorkflowDocument
from flowdesk.model.diff import WorkflowDiff, diff_workflows
from flowdesk.model.errors import NotFound
from flowdesk.model.workflow import Edge, Node, Workflow
from flowdesk.store import Store
from flowdesk.store.versions import VersionInfo, canonical

__all__ = ["ReplaceContentCommand", "WorkflowVersions"]

_TOP = ("description", "input_schema", "settings")


def _content(workflow: Workflow) -> dict[str, Any]:
    data = copy.deepcopy(workflow.to_dict())
    data.pop("name", None)
    return data


class ReplaceContentCommand(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, workflow: Workflow, text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.old = _content(doc.workflow)
        self.new = _content(workflow)

    def _apply(self, content: dict[str, Any]) -> None:
        doc = self.doc
        for edge in list(doc.workflow.edges):
            doc.delete_edge(edge.id)
        for node in list(doc.workflow.nodes):
            doc.delete_node(node.id)
        for note in list(doc.notes):
            doc.delete_note(note["id"])
        target = Workflow.from_dict({"name": doc.name, **copy.deepcopy(content)},
                                    "restored version")
        for field in _TOP:
            setattr(doc.workflow, field, getattr(target, field))
        extra = {k: v for k, v in (target.__pydantic_extra__ or {}).items() if k != "notes"}
        doc.workflow.__pydantic_extra__ = extra
        for node in target.nodes:
            doc.insert_node(Node.model_validate(node.model_dump(by_alias=True)))
        for edge in target.edges:
            doc.insert_edge(Edge.model_validate(edge.model_dump(by_alias=True)))
        for note in content.get("notes") or []:
            doc.insert_note(note)
        doc.changed.emit()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class WorkflowVersions:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._live: tuple[str, int, str] | None = None  # name, version, canonical content

    def list(self, name: str) -> list[VersionInfo]:
        return self.store.versions.list_versions(name)

    def version(self, name: str, version: int) -> Workflow:
        return self.store.versions.version(name, version)

    def diff(self, doc: WorkflowDocument, version: int) -> tuple[Workflow, WorkflowDiff]:
        """Version ``version`` and what the open draft changed since it."""
        old = self.version(doc.name, version)
        return old, diff_workflows(old, doc.workflow)

    def restore_command(self, doc: WorkflowDocument, version: int) -> ReplaceContentCommand:
        return ReplaceContentCommand(doc, self.version(doc.name, version),
                                     f"Restore version {version}")

    def draft_differs(self, doc: WorkflowDocument) -> bool:
        if doc.version is None:
            return False
        if self._live is None or self._live[:2] != (doc.name, doc.version):
            try:
                live, number = self.store.get_workflow(doc.name)
            except NotFound:  # renamed in the editor, not yet in the store (autosave)
                return self._live is not None and self._live[1] == doc.version \
                    and canonical(doc.workflow) != self._live[2]
            self._live = (doc.name, number, canonical(live))
        return canonical(doc.workflow) != self._live[2]
