"""Undo commands: one user action = one command, calling document methods only.

Commands hold ids and plain values (never graphics items) and record the old value when
created. Typing in a field merges into one command (``mergeWith``); a drag is one ``Move``.
Undo restores nodes and edges at their original list positions, so undo then redo returns
exactly the same serialized workflow.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from flowdesk.document.document import UNSET, WorkflowDocument
from flowdesk.model.workflow import ERROR_PORT, Edge, Node

__all__ = [
    "AddItemsCommand",
    "AddNoteCommand",
    "MoveNodesCommand",
    "RemoveItemsCommand",
    "RenameWorkflowCommand",
    "SetConfigValueCommand",
    "SetErrorOutputCommand",
    "SetNodeFieldCommand",
    "SetNoteCommand",
]

_MERGE_CONFIG = 1001
_MERGE_FIELD = 1002


class AddItemsCommand(QUndoCommand):
    """Add nodes and edges (a palette drop, a connection, a paste)."""

    def __init__(self, doc: WorkflowDocument, nodes: list[dict[str, Any]],
                 edges: list[dict[str, Any]], text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = [copy.deepcopy(e) for e in edges]

    def redo(self) -> None:
        for data in self.nodes:
            self.doc.insert_node(Node.model_validate(copy.deepcopy(data)))
        for data in self.edges:
            self.doc.insert_edge(Edge.model_validate(copy.deepcopy(data)))

    def undo(self) -> None:
        for data in reversed(self.edges):
            self.doc.delete_edge(data["id"])
        for data in reversed(self.nodes):
            self.doc.delete_node(data["id"])


class RemoveItemsCommand(QUndoCommand):
    """Delete nodes (with every edge touching them), edges and sticky notes."""

    def __init__(self, doc: WorkflowDocument, node_ids: list[str], edge_ids: list[str],
                 text: str = "Delete", note_ids: list[str] | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        wf = doc.workflow
        wanted = set(note_ids or [])
        self.notes = [(i, copy.deepcopy(n)) for i, n in enumerate(doc.notes)
                      if n.get("id") in wanted] if wanted else []
        node_set = set(node_ids)
        edge_set = set(edge_ids) | {e.id for e in wf.edges
                                    if e.source in node_set or e.target in node_set}
        # remember list positions so undo puts everything back where it was
        self.nodes = [(i, n.model_dump(mode="json", by_alias=True))
                      for i, n in enumerate(wf.nodes) if n.id in node_set]
        self.edges = [(i, e.model_dump(mode="json", by_alias=True))
                      for i, e in enumerate(wf.edges) if e.id in edge_set]

    def redo(self) -> None:
        for _, data in reversed(self.edges):
            self.doc.delete_edge(data["id"])
        for _, data in reversed(self.nodes):
            self.doc.delete_node(data["id"])
        for _, note in reversed(self.notes):
            self.doc.delete_note(note["id"])

    def undo(self) -> None:
        for index, note in self.notes:
            self.doc.insert_note(note, index)
        for index, data in self.nodes:
            self.doc.insert_node(Node.model_validate(copy.deepcopy(data)), index)
        for index, data in self.edges:
            self.doc.insert_edge(Edge.model_validate(copy.deepcopy(data)), index)


class MoveNodesCommand(QUndoCommand):
    """Move nodes: one drag, a nudge, or an auto-layout."""

    def __init__(self, doc: WorkflowDocument,
                 moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
                 text: str = "Move") -> None:
        super().__init__(text)
        self.doc = doc
        self.moves = dict(moves)

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.doc.set_node_position(node_id, *new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.doc.set_node_position(node_id, *old)


class SetConfigValueCommand(QUndoCommand):
    """Change one config field of a node; typing in the same field merges.

    ``draft`` is text typed that is not a valid value yet: it is kept as typed (in the
    node's drafts) and the config key is left unset, so nothing typed is thrown away."""

    def __init__(self, doc: WorkflowDocument, node_id: str, key: str, value: Any,
                 draft: str | None = None) -> None:
        super().__init__(f"Edit {key} of {node_id}")
        self.doc = doc
        self.node_id = node_id
        self.key = key
        config = doc.node(node_id).data.config
        # UNSET is a singleton that deepcopy keeps; never copy it into a look-alike
        self.old = copy.deepcopy(config[key]) if key in config else UNSET
        self.old_draft = doc.drafts_of(node_id).get(key)
        self.new = UNSET if draft is not None or value is UNSET else copy.deepcopy(value)
        self.new_draft = draft

    def id(self) -> int:
        return _MERGE_CONFIG

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetConfigValueCommand) or \
                (other.node_id, other.key) != (self.node_id, self.key):
            return False
        self.new, self.new_draft = other.new, other.new_draft
        return True

    def redo(self) -> None:
        self.doc.set_config_value(self.node_id, self.key, self.new, self.new_draft)

    def undo(self) -> None:
        self.doc.set_config_value(self.node_id, self.key, self.old, self.old_draft)


class SetNodeFieldCommand(QUndoCommand):
    """Change a node's label, retry policy, timeout or continue-on-error."""

    def __init__(self, doc: WorkflowDocument, node_id: str, field: str, value: Any,
                 draft: str | None = None) -> None:
        super().__init__(f"Edit {field.replace('_', ' ')} of {node_id}")
        self.doc = doc
        self.node_id = node_id
        self.field = field
        self.old = copy.deepcopy(getattr(doc.node(node_id).data, field))
        self.old_draft = doc.drafts_of(node_id).get(f"@{field}")
        self.new = copy.deepcopy(value)
        self.new_draft = draft

    def id(self) -> int:
        return _MERGE_FIELD

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetNodeFieldCommand) or \
                (other.node_id, other.field) != (self.node_id, self.field):
            return False
        self.new, self.new_draft = other.new, other.new_draft
        return True

    def redo(self) -> None:
        self.doc.set_node_field(self.node_id, self.field, self.new, self.new_draft)

    def undo(self) -> None:
        self.doc.set_node_field(self.node_id, self.field, self.old, self.old_draft)


class SetErrorOutputCommand(QUndoCommand):
    """Turn a node's error port on (``on_error: "error_output"``) or off. Off also removes
    the edges leaving that port (as n8n does), in the same undo entry; they come back on
    undo. Made of the field and delete commands above, run in a fixed order so that no
    edge ever leaves a port the node does not have."""

    def __init__(self, doc: WorkflowDocument, node_id: str, on: bool) -> None:
        super().__init__(f"{'Add' if on else 'Remove'} the error port of {node_id}")
        edges = [] if on else [e.id for e in doc.workflow.edges
                               if e.source == node_id and e.source_handle == ERROR_PORT]
        self._field = SetNodeFieldCommand(doc, node_id, "on_error",
                                          "error_output" if on else None)
        self._edges = RemoveItemsCommand(doc, [], edges) if edges else None

    def redo(self) -> None:
        if self._edges is not None:
            self._edges.redo()
        self._field.redo()

    def undo(self) -> None:
        self._field.undo()
        if self._edges is not None:
            self._edges.undo()


class RenameWorkflowCommand(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, name: str) -> None:
        super().__init__("Rename workflow")
        self.doc = doc
        self.old = doc.name
        self.new = name

    def redo(self) -> None:
        self.doc.set_name(self.new)

    def undo(self) -> None:
        self.doc.set_name(self.old)


class AddNoteCommand(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, note: dict[str, Any]) -> None:
        super().__init__("Add note")
        self.doc = doc
        self.note = copy.deepcopy(note)

    def redo(self) -> None:
        self.doc.insert_note(self.note)

    def undo(self) -> None:
        self.doc.delete_note(self.note["id"])


_MERGE_NOTE = 1003


class SetNoteCommand(QUndoCommand):
    """Change a note's text, position or size; consecutive edits of its text merge."""

    def __init__(self, doc: WorkflowDocument, note_id: str, fields: dict[str, Any],
                 text: str = "Edit note") -> None:
        super().__init__(text)
        self.doc = doc
        self.note_id = note_id
        note = doc.note(note_id)
        self.old = {k: copy.deepcopy(note.get(k)) for k in fields}
        self.new = copy.deepcopy(fields)

    def id(self) -> int:
        return _MERGE_NOTE if set(self.new) == {"text"} else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetNoteCommand) or other.note_id != self.note_id or \
                set(other.new) != {"text"}:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.set_note_fields(self.note_id, self.new)

    def undo(self) -> None:
        self.doc.set_note_fields(self.note_id, self.old)
