"""Canvas edit operations, each turned into one undo command on the document: add a step,
connect, delete, move, copy/cut/paste/duplicate (through the system clipboard, so between
workflows too), and auto-layout."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from flowdesk.document.clipboard import paste_items
from flowdesk.document.commands import (
    AddItemsCommand,
    AddNoteCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    SetNoteCommand,
)
from flowdesk.document.document import WorkflowDocument
from flowdesk.document.layout import layered_layout
from flowdesk.ui.canvas.items import NODE_H, NODE_W
from flowdesk.ui.canvas.scene import WorkflowScene, snap

__all__ = ["CanvasActions"]


class CanvasActions:
    def __init__(self, doc: WorkflowDocument, scene: WorkflowScene) -> None:
        self.doc = doc
        self.scene = scene

    def push(self, command: Any) -> None:
        self.doc.undo_stack.push(command)

    # -- adding and connecting ---------------------------------------------------------------
    def add_step(self, step_type: str, at: QPointF | None = None,
                 connect_from: str | None = None, avoid_overlap: bool = False) -> str:
        """Add a step centred on ``at`` (a drop point), or after ``connect_from``; a step placed
        for the person (``avoid_overlap``, and always after ``connect_from``) moves down to the
        first spot where it covers no other step."""
        entry = self.doc.registry.get(step_type).catalog
        node_id = self.doc.new_node_id(step_type)
        if at is None:
            if connect_from is not None:
                src = self.doc.node(connect_from).position
                at = QPointF(src.x + NODE_W + 80 + NODE_W / 2, src.y + NODE_H / 2)
                avoid_overlap = True
            else:
                at = QPointF(0, 0)
        x, y = snap(at.x() - NODE_W / 2), snap(at.y() - NODE_H / 2)
        if avoid_overlap:
            x, y = self.free_spot(x, y)
        node = {"id": node_id, "type": step_type, "position": {"x": x, "y": y},
                "data": {"label": entry.label, "config": {}}}
        edges = []
        if connect_from is not None and not entry.trigger:
            ports = self.doc.ports_of(self.doc.node(connect_from).type)
            edges.append({"id": self.doc.new_edge_id(), "source": connect_from,
                          "target": node_id, **({"sourceHandle": ports[0]} if ports else {})})
        self.push(AddItemsCommand(self.doc, [node], edges, f"Add {entry.label}"))
        self.scene.select_nodes([node_id])
        return node_id

    def free_spot(self, x: float, y: float) -> tuple[float, float]:
        """The first place at or below (x, y), a node height and a gap apart each time, where a
        new step's box does not cover an existing one."""
        boxes = [(n.position.x, n.position.y) for n in self.doc.workflow.nodes]
        for _ in range(200):
            if not any(abs(bx - x) < NODE_W + 10 and abs(by - y) < NODE_H + 10
                       for bx, by in boxes):
                break
            y = snap(y + NODE_H + 30)
        return x, y

    def connect(self, source: str, handle: str | None, target: str) -> bool:
        if self.doc.can_connect(source, handle, target) is not None:
            return False
        edge: dict[str, Any] = {"id": self.doc.new_edge_id(), "source": source,
                                "target": target}
        if handle is not None:
            edge["sourceHandle"] = handle
        self.push(AddItemsCommand(self.doc, [], [edge], "Connect"))
        return True

    def move(self, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]]) -> None:
        self.push(MoveNodesCommand(self.doc, moves, "Move"))

    # -- deleting ----------------------------------------------------------------------------
    def delete_selected(self) -> None:
        nodes = self.scene.selected_node_ids()
        edges = self.scene.selected_edge_ids()
        notes = self.scene.selected_note_ids()
        if nodes or edges or notes:
            text = "Delete" if nodes or notes else "Disconnect"
            self.push(RemoveItemsCommand(self.doc, nodes, edges, text, note_ids=notes))

    # -- sticky notes ------------------------------------------------------------------------
    def add_note(self, at: QPointF, text: str = "Note") -> str:
        note_id = self.doc.new_note_id()
        self.push(AddNoteCommand(self.doc, {"id": note_id, "text": text,
                                            "x": snap(at.x()), "y": snap(at.y()),
                                            "width": 220}))
        return note_id

    def move_note(self, note_id: str, x: float, y: float) -> None:
        self.push(SetNoteCommand(self.doc, note_id, {"x": x, "y": y}, "Move note"))

    def edit_note(self, note_id: str, text: str) -> None:
        if self.doc.note(note_id).get("text") != text:
            self.push(SetNoteCommand(self.doc, note_id, {"text": text}))

    def select_all(self) -> None:
        for item in self.scene.node_items.values():
            item.setSelected(True)

    # -- clipboard ---------------------------------------------------------------------------
    def selection_payload(self) -> dict[str, Any] | None:
        ids = set(self.scene.selected_node_ids())
        if not ids:
            return None
        wf = self.doc.workflow
        return {
            "flowdesk": 1,
            "nodes": [n.model_dump(mode="json", by_alias=True) for n in wf.nodes
                      if n.id in ids],
            "edges": [e.model_dump(mode="json", by_alias=True) for e in wf.edges
                      if e.source in ids and e.target in ids],
        }

    def copy(self) -> bool:
        """Copy the selected steps as JSON text ({"flowdesk": 1, nodes, edges}): it pastes
        into another workflow, or into any text editor. (Plain text on purpose: a QMimeData
        made in Python and owned by the clipboard is destroyed after the interpreter at exit,
        which crashes PySide.)"""
        payload = self.selection_payload()
        if payload is None:
            return False
        QApplication.clipboard().setText(json.dumps(payload, indent=2))
        return True

    def cut(self) -> None:
        if self.copy():
            self.push(RemoveItemsCommand(self.doc, self.scene.selected_node_ids(), [], "Cut"))

    def paste(self, payload: dict[str, Any] | None = None, at: QPointF | None = None,
              offset: float = 40.0) -> list[str]:
        """Paste steps: centred on ``at`` (where the user looks), else ``offset`` px from the
        originals; references among the pasted steps follow their new ids."""
        if payload is None:
            try:
                payload = json.loads(QApplication.clipboard().text())
            except (json.JSONDecodeError, TypeError):
                return []
        wf = self.doc.workflow
        pasted = paste_items(payload, (n.id for n in wf.nodes), (e.id for e in wf.edges),
                             center=(at.x(), at.y()) if at is not None else None,
                             offset=offset,
                             occupied=((n.position.x, n.position.y) for n in wf.nodes),
                             size=(NODE_W, NODE_H))
        if pasted is None:
            return []
        self.push(AddItemsCommand(self.doc, pasted.nodes, pasted.edges, "Paste"))
        self.scene.select_nodes(list(pasted.mapping.values()))
        return list(pasted.mapping.values())

    def duplicate(self) -> list[str]:
        payload = self.selection_payload()
        return self.paste(payload) if payload is not None else []

    # -- layout ------------------------------------------------------------------------------
    def auto_layout(self) -> None:
        positions = layered_layout(self.doc.workflow)
        moves = {}
        for node_id, (x, y) in positions.items():
            pos = self.doc.node(node_id).position
            if (pos.x, pos.y) != (x, y):
                moves[node_id] = ((pos.x, pos.y), (x, y))
        if moves:
            self.push(MoveNodesCommand(self.doc, moves, "Auto-layout"))
