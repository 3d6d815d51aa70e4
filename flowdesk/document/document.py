"""The open workflow: its model, undo stack, dirty flag and validation.

The pydantic ``Workflow`` is the single source of truth. Only the undo commands call the
mutating methods (``insert_node``, ``delete_edge``, ``set_node_position``...); each emits a
past-tense signal that the canvas and panels follow, and only when something changed.
Queries (``can_connect``, ``upstream_of``, ``new_node_id``) answer the UI's questions.
``pins`` (step id → pinned output, what "Test step" uses) live beside the workflow, not in
it: they are saved with the draft but never become part of a version or an export.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QUndoStack

from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.registry import StepRegistry
from flowdesk.engine.rules import connect_problem
from flowdesk.engine.validation import check_workflow_refs, validate
from flowdesk.model.errors import Problem, UnknownStepType
from flowdesk.model.workflow import Edge, Node, Workflow

__all__ = ["WorkflowDocument"]


class WorkflowDocument(QObject):
    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)  # label, config, retry, timeout... (not position)
    node_moved = Signal(str)
    edge_added = Signal(str)
    edge_removed = Signal(str)
    renamed = Signal(str)
    note_added = Signal(str)
    note_removed = Signal(str)
    note_changed = Signal(str)
    pin_changed = Signal(str)  # a step was pinned, unpinned or its pin changed
    changed = Signal()  # any edit (autosave listens to this)
    dirty_changed = Signal(bool)
    problems_changed = Signal(list)

    def __init__(self, workflow: Workflow, registry: StepRegistry,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workflow = workflow
        # id -> list position, checked on every hit and rebuilt on a miss: lookups stay O(1)
        # whatever edits did to the lists (a linear scan per lookup made opening 5,000 steps
        # quadratic: 4 s of 4.5)
        self._node_at: dict[str, int] = {}
        self._edge_at: dict[str, int] = {}
        self.registry = registry
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.version: int | None = None
        # the names of the saved workflows (set by the library), so sub-workflow steps are
        # checked while editing
        self.saved_workflows: Callable[[], set[str]] | None = None
        self.problems: list[Problem] = []
        self.pins: dict[str, Any] = {}  # set by the library when it opens the workflow
        self._validate_timer = QTimer(self, singleShot=True, interval=150)
        self._validate_timer.timeout.connect(self.revalidate)
        self.changed.connect(self._validate_timer.start)
        self.revalidate()

    @Slot(bool)
    def _clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    # -- queries -----------------------------------------------------------------------------
    @property
    def workflow(self) -> Workflow:
        return self._workflow

    @property
    def name(self) -> str:
        return self._workflow.name

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def serialize(self) -> dict[str, Any]:
        return self._workflow.to_dict()

    def snapshot(self) -> Workflow:
        """An independent copy, e.g. for a run."""
        return Workflow.model_validate(copy.deepcopy(self.serialize()))

    def has_node(self, node_id: str) -> bool:
        return _position(self._workflow.nodes, self._node_at, node_id) is not None

    def node(self, node_id: str) -> Node:
        i = _position(self._workflow.nodes, self._node_at, node_id)
        if i is None:
            raise KeyError(node_id)
        return self._workflow.nodes[i]

    def edge(self, edge_id: str) -> Edge:
        i = _position(self._workflow.edges, self._edge_at, edge_id)
        if i is None:
            raise KeyError(edge_id)
        return self._workflow.edges[i]

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self._workflow.edges if node_id in (e.source, e.target)]

    def ports_of(self, node_type: str) -> tuple[str, ...]:
        try:
            return self.registry.get(node_type).catalog.ports
        except (UnknownStepType, ImportError):
            return ()

    def upstream_of(self, node_id: str) -> list[str]:
        graph = WorkflowGraph(self._workflow)
        if not graph.is_acyclic() or node_id not in graph:
            return []
        return [n for n in graph.topological_order() if n in graph.ancestors(node_id)]

    def can_connect(self, source: str, handle: str | None, target: str) -> str | None:
        """None if an edge source→target through ``handle`` may be added, else why not."""
        problem = connect_problem(self._workflow, source, handle, target, self.registry)
        return None if problem is None else str(problem)

    def new_node_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_") or "step"
        taken = {n.id for n in self._workflow.nodes}
        if base not in taken:
            return base
        i = 2
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def new_edge_id(self) -> str:
        taken = {e.id for e in self._workflow.edges}
        i = len(taken) + 1
        while f"e{i}" in taken:
            i += 1
        return f"e{i}"

    # -- mutations (called by undo commands only) --------------------------------------------
    def insert_node(self, node: Node, index: int | None = None) -> None:
        nodes = self._workflow.nodes
        nodes.insert(len(nodes) if index is None else index, node)
        self.node_added.emit(node.id)
        self.changed.emit()

    def delete_node(self, node_id: str) -> tuple[int, Node]:
        for i, node in enumerate(self._workflow.nodes):
            if node.id == node_id:
                del self._workflow.nodes[i]
                self.node_removed.emit(node_id)
                self.changed.emit()
                return i, node
        raise KeyError(node_id)

    def insert_edge(self, edge: Edge, index: int | None = None) -> None:
        edges = self._workflow.edges
        edges.insert(len(edges) if index is None else index, edge)
        self.edge_added.emit(edge.id)
        self.changed.emit()

    def delete_edge(self, edge_id: str) -> tuple[int, Edge]:
        for i, edge in enumerate(self._workflow.edges):
            if edge.id == edge_id:
                del self._workflow.edges[i]
                self.edge_removed.emit(edge_id)
                self.changed.emit()
                return i, edge
        raise KeyError(edge_id)

    def set_node_position(self, node_id: str, x: float, y: float) -> None:
        position = self.node(node_id).position
        if (position.x, position.y) == (x, y):
            return
        position.x, position.y = x, y
        self.node_moved.emit(node_id)
        self.changed.emit()

    def set_config_value(self, node_id: str, key: str, value: Any,
                         draft: str | None = None) -> None:
        """Set one config key; ``value`` of ``UNSET`` removes the key. ``draft`` is text
        the user typed that is not a valid value yet (e.g. unfinished JSON): it is kept in
        the node's ``drafts`` (saved with the workflow, reported as a problem) until a valid
        value replaces it."""
        config = self.node(node_id).data.config
        if isinstance(value, _Unset):
            changed = key in config
            config.pop(key, None)
        else:
            changed = key not in config or config[key] != value
            config[key] = copy.deepcopy(value)
        changed = self._set_draft(node_id, key, draft) or changed
        if not changed:
            return
        self.node_changed.emit(node_id)
        self.changed.emit()

    def _set_draft(self, node_id: str, key: str, draft: str | None) -> bool:
        """Keep (or drop, with None) the text typed for ``key``; True if it changed."""
        data = self.node(node_id).data
        drafts = self.drafts_of(node_id)
        if drafts.get(key) == draft:
            return False
        if draft is None:
            drafts.pop(key, None)
        else:
            drafts[key] = draft
        extra = data.__pydantic_extra__
        if extra is None:
            extra = data.__pydantic_extra__ = {}
        if drafts:
            extra["drafts"] = drafts
        else:
            extra.pop("drafts", None)
        return True

    def drafts_of(self, node_id: str) -> dict[str, str]:
        """Text typed into a node's fields that is kept as typed because it is not a valid
        value yet (field key -> text); a copy."""
        drafts = (self.node(node_id).data.__pydantic_extra__ or {}).get("drafts")
        if not isinstance(drafts, dict):
            return {}
        return {str(k): str(v) for k, v in drafts.items()}

    def set_node_field(self, node_id: str, field: str, value: Any,
                       draft: str | None = None) -> None:
        """Set ``label``, ``retry``, ``timeout_seconds``, ``continue_on_error`` or ``on_error``;
        ``draft`` keeps text typed that is not a valid value yet (under ``@field``)."""
        data = self.node(node_id).data
        changed = self._set_draft(node_id, f"@{field}", draft)
        if getattr(data, field) == value and not changed:
            return
        setattr(data, field, copy.deepcopy(value))
        self.node_changed.emit(node_id)
        self.changed.emit()

    # -- sticky notes: kept in the file as an extra "notes" list ---------------------------
    @property
    def notes(self) -> list[dict[str, Any]]:
        """The sticky notes (reading never adds a "notes" key to the file)."""
        notes = (self._workflow.__pydantic_extra__ or {}).get("notes")
        return notes if isinstance(notes, list) else []

    def note(self, note_id: str) -> dict[str, Any]:
        for note in self.notes:
            if note.get("id") == note_id:
                return note
        raise KeyError(note_id)

    def new_note_id(self) -> str:
        taken = {n.get("id") for n in self.notes}
        i = len(taken) + 1
        while f"note{i}" in taken:
            i += 1
        return f"note{i}"

    def insert_note(self, note: dict[str, Any], index: int | None = None) -> None:
        if self._workflow.__pydantic_extra__ is None:
            self._workflow.__pydantic_extra__ = {}
        notes = self._workflow.__pydantic_extra__.setdefault("notes", [])
        notes.insert(len(notes) if index is None else index, copy.deepcopy(note))
        self.note_added.emit(note["id"])
        self.changed.emit()

    def delete_note(self, note_id: str) -> tuple[int, dict[str, Any]]:
        notes = self.notes
        for i, note in enumerate(notes):
            if note.get("id") == note_id:
                del notes[i]
                if not notes:
                    extra = self._workflow.__pydantic_extra__
                    if extra is not None:
                        extra.pop("notes", None)
                self.note_removed.emit(note_id)
                self.changed.emit()
                return i, note
        raise KeyError(note_id)

    def set_note_fields(self, note_id: str, fields: dict[str, Any]) -> None:
        note = self.note(note_id)
        if all(note.get(k) == v for k, v in fields.items()):
            return
        note.update(copy.deepcopy(fields))
        self.note_changed.emit(note_id)
        self.changed.emit()

    # -- pins: pinned step outputs, saved with the draft (not part of the workflow) --------
    def is_pinned(self, node_id: str) -> bool:
        return node_id in self.pins

    def set_pin(self, node_id: str, value: Any) -> None:
        """Pin ``value`` as ``node_id``'s output (``UNSET``: unpin)."""
        if isinstance(value, _Unset):
            if node_id not in self.pins:
                return
            del self.pins[node_id]
        else:
            if node_id in self.pins and self.pins[node_id] == value:
                return
            self.pins[node_id] = copy.deepcopy(value)
        self.pin_changed.emit(node_id)
        self.changed.emit()

    def set_name(self, name: str) -> None:
        if self._workflow.name == name:
            return
        self._workflow.name = name
        self.renamed.emit(name)
        self.changed.emit()

    # -- validation --------------------------------------------------------------------------
    def revalidate(self) -> None:
        problems = validate(self._workflow, self.registry)
        if self.saved_workflows is not None:
            problems += check_workflow_refs(self._workflow, self.saved_workflows())
        self.problems = problems
        self.problems_changed.emit(self.problems)

    def problems_for_node(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node_id == node_id]

    def problems_for_edge(self, edge_id: str) -> list[Problem]:
        return [p for p in self.problems if p.edge_id == edge_id]


class _Unset:
    """The "no value" marker: a singleton that copying (``copy.deepcopy`` in the undo
    commands, pickling) keeps the same object, so ``value is UNSET`` always holds."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __copy__(self) -> _Unset:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Unset:
        return self

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _position(items: list[Any], index: dict[str, int], item_id: str) -> int | None:
    """Where the item with ``item_id`` is in ``items`` (nodes or edges, ids unique), through
    ``index``; the index is trusted only when the item there still has that id."""
    i = index.get(item_id)
    if i is not None and i < len(items) and items[i].id == item_id:
        return i
    index.clear()
    index.update((item.id, i) for i, item in enumerate(items))
    return index.get(item_id)
