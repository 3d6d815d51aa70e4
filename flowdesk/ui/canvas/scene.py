"""The scene mirrors the document: it follows the document's signals and keeps id→item maps.
It never writes the model; user gestures become intents (signals) that the window turns into
undo commands: ``connect_requested``, ``nodes_moved`` (one per drag, on release)."""

from __future__ import annotations

import gc
import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
)

from flowdesk.document.document import WorkflowDocument
from flowdesk.document.run_controller import StepView
from flowdesk.engine.rules import EdgeState, edge_state, output_ports
from flowdesk.model.errors import Problem, UnknownStepType
from flowdesk.model.status import StepStatus
from flowdesk.ui.canvas.items import NODE_W, EdgeItem, NodeItem, NoteItem
from flowdesk.ui.canvas.pin_mark import PinMark
from flowdesk.ui.theme import current_theme

__all__ = ["GRID", "WorkflowScene"]

GRID = 20.0


def snap(value: float) -> float:
    return round(value / GRID) * GRID


class WorkflowScene(QGraphicsScene):
    connect_requested = Signal(str, object, str)  # source id, handle (str | None), target id
    nodes_moved = Signal(dict)  # {id: ((old x, old y), (new x, new y))}
    note_moved = Signal(str, float, float)  # note id, new x, new y
    note_edited = Signal(str, str)  # note id, new text
    connection_feedback = Signal(str)  # why a hovered connection is refused ("" when ok)

    def __init__(self, doc: WorkflowDocument) -> None:
        super().__init__()
        self.doc = doc
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[str, EdgeItem] = {}
        self._edges_at: dict[str, dict[str, EdgeItem]] = {}  # node id -> its edges' items
        self.note_items: dict[str, NoteItem] = {}
        self.views_by_step: dict[str, StepView] = {}
        self._drag: tuple[str, str | None] | None = None
        self._drag_path: QGraphicsPathItem | None = None
        self._hovered: NodeItem | None = None
        # where nodes and notes were when a press began (a drag is reported on release)
        self._press_positions: dict[str, tuple[float, float]] | None = None
        self._press_notes: dict[str, tuple[float, float]] | None = None
        self.setSceneRect(QRectF(-20000, -20000, 40000, 40000))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._animation = QTimer(self, interval=60)
        self._animation.timeout.connect(self._animate)
        doc.node_added.connect(self._on_node_added)
        doc.node_removed.connect(self._on_node_removed)
        doc.node_changed.connect(self._on_node_changed)
        doc.node_moved.connect(self._on_node_moved)
        doc.edge_added.connect(self._on_edge_added)
        doc.edge_removed.connect(self._on_edge_removed)
        doc.problems_changed.connect(self._on_problems)
        doc.note_added.connect(self._on_note_added)
        doc.note_removed.connect(self._on_note_removed)
        doc.note_changed.connect(self._on_note_changed)
        doc.pin_changed.connect(self._on_pin_changed)
        self.pin_marks: dict[str, PinMark] = {}  # on the steps whose output is pinned
        for note in doc.notes:
            self._on_note_added(note["id"])
        for node in doc.workflow.nodes:
            self._on_node_added(node.id)
        for edge in doc.workflow.edges:
            self._on_edge_added(edge.id)
        self._on_problems(doc.problems)
        # The document's models and these thousands of items live as long as the canvas:
        # keep them out of the collector's full passes, which took 110–155 ms with 5,000
        # steps during a live run. Unfreezing first hands what earlier canvases left back to
        # the collector.
        gc.unfreeze()
        gc.freeze()

    # -- document -> items -------------------------------------------------------------------
    def _on_node_added(self, node_id: str) -> None:
        item = NodeItem(node_id)
        self.node_items[node_id] = item
        self._sync_node(item)
        pos = self.doc.node(node_id).position
        item.setPos(pos.x, pos.y)
        self.addItem(item)
        self._on_pin_changed(node_id)

    def _on_pin_changed(self, node_id: str) -> None:
        item = self.node_items.get(node_id)
        mark = self.pin_marks.pop(node_id, None)
        if mark is not None and item is not None and mark.parentItem() is item:
            self.removeItem(mark)
        if item is not None and self.doc.is_pinned(node_id):
            self.pin_marks[node_id] = PinMark(item, QPointF(NODE_W - 42, 0))

    def _sync_node(self, item: NodeItem) -> None:
        node = self.doc.node(item.node_id)
        try:
            entry = self.doc.registry.get(node.type).catalog
            item.set_model(node.label, entry.label, entry.category, entry.icon,
                           output_ports(node, entry.ports), entry.trigger)
        except (UnknownStepType, ImportError):
            item.set_model(node.label, f"unknown: {node.type}", "", "test",
                           output_ports(node, ()), False)
        for edge in list(self._edges_at.get(item.node_id, {}).values()):
            if edge.source == item.node_id:  # the ports may have moved (error port)
                self._route(edge)

    def _on_node_removed(self, node_id: str) -> None:
        self.pin_marks.pop(node_id, None)  # goes with its step item
        item = self.node_items.pop(node_id)
        if self._hovered is item:
            self._hovered = None
        self.removeItem(item)

    def _on_node_changed(self, node_id: str) -> None:
        self._sync_node(self.node_items[node_id])

    def _on_node_moved(self, node_id: str) -> None:
        pos = self.doc.node(node_id).position
        item = self.node_items[node_id]
        if (item.pos().x(), item.pos().y()) != (pos.x, pos.y):
            item.setPos(pos.x, pos.y)

    def _on_edge_added(self, edge_id: str) -> None:
        edge = self.doc.edge(edge_id)
        item = EdgeItem(edge_id, edge.source, edge.source_handle, edge.target)
        self.edge_items[edge_id] = item
        for end in (item.source, item.target):
            self._edges_at.setdefault(end, {})[edge_id] = item
        self.addItem(item)
        self._route(item)
        self._edge_state(item)

    def _on_edge_removed(self, edge_id: str) -> None:
        item = self.edge_items.pop(edge_id)
        for end in (item.source, item.target):
            self._edges_at.get(end, {}).pop(edge_id, None)
        self.removeItem(item)

    def _on_note_added(self, note_id: str) -> None:
        item = NoteItem(note_id)
        item.editing_finished = lambda nid, text: self.note_edited.emit(nid, text)
        self.note_items[note_id] = item
        self.addItem(item)
        self._on_note_changed(note_id)

    def _on_note_removed(self, note_id: str) -> None:
        self.removeItem(self.note_items.pop(note_id))

    def _on_note_changed(self, note_id: str) -> None:
        note = self.doc.note(note_id)
        item = self.note_items[note_id]
        item.set_text(str(note.get("text", "")))
        item.set_width(float(note.get("width", 220)))
        pos = (float(note.get("x", 0)), float(note.get("y", 0)))
        if (item.pos().x(), item.pos().y()) != pos:
            item.setPos(*pos)

    def selected_note_ids(self) -> list[str]:
        return [i.note_id for i in self.selectedItems() if isinstance(i, NoteItem)]

    def _on_problems(self, problems: list[Problem]) -> None:
        by_node: dict[str, list[str]] = {}
        by_edge: dict[str, list[str]] = {}
        for p in problems:
            if p.edge_id is not None:
                by_edge.setdefault(p.edge_id, []).append(p.message)
            elif p.node_id is not None:
                by_node.setdefault(p.node_id, []).append(
                    f"{p.field}: {p.message}" if p.field else p.message)
        for node_id, item in self.node_items.items():
            item.set_problems(by_node.get(node_id, []))
        for edge_id, edge_item in self.edge_items.items():
            edge_item.set_problems(by_edge.get(edge_id, []))

    def _route(self, item: EdgeItem) -> None:
        source = self.node_items.get(item.source)
        target = self.node_items.get(item.target)
        if source is None or target is None:
            item.setVisible(False)
            return
        item.setVisible(True)
        item.set_ends(source.output_port(item.handle), target.input_port())

    def node_item_moved(self, node_id: str) -> None:
        for item in list(self._edges_at.get(node_id, {}).values()):
            self._route(item)

    # -- run state ---------------------------------------------------------------------------
    def apply_step_views(self, views: dict[str, StepView], replace: bool = False) -> None:
        if replace:
            self.views_by_step = {}
        self.views_by_step.update(views)
        targets = self.node_items if replace else {k: self.node_items[k] for k in views
                                                   if k in self.node_items}
        for node_id, item in targets.items():
            item.set_view(self.views_by_step.get(node_id))
        if replace:
            touched: dict[str, EdgeItem] = self.edge_items
        else:  # only the edges of the steps that changed (not all of a big workflow's)
            touched = {eid: e for node_id in views
                       for eid, e in self._edges_at.get(node_id, {}).items()}
        for edge in touched.values():
            self._edge_state(edge)
        running = any(v.status is StepStatus.RUNNING for v in self.views_by_step.values())
        if running and not self._animation.isActive():
            self._animation.start()
        elif not running:
            self._animation.stop()

    def clear_step_views(self) -> None:
        self.apply_step_views({}, replace=True)

    def _edge_state(self, item: EdgeItem) -> None:
        source = self.views_by_step.get(item.source)
        target = self.views_by_step.get(item.target)
        state = EdgeState.UNDECIDED if source is None else \
            edge_state(source.status, source.branch, item.handle)
        if state is EdgeState.LIVE:
            item.set_state("taken" if target is None or
                           target.status is not StepStatus.SKIPPED else "dead")
        else:
            item.set_state("dead" if state is EdgeState.DEAD else None)

    def _animate(self) -> None:
        for node_id, view in self.views_by_step.items():
            if view.status is StepStatus.RUNNING and node_id in self.node_items:
                item = self.node_items[node_id]
                item.phase = (item.phase + 0.08) % 1.0
                item.update()

    # -- selection helpers -------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edge_ids(self) -> list[str]:
        return [i.edge_id for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def keep_edges_between_selected_nodes(self) -> None:
        """After a rubber band: an edge is selected exactly when both its ends are, so what
        Delete removes is what the band visibly took."""
        selected = set(self.selected_node_ids())
        for item in self.edge_items.values():
            wanted = item.source in selected and item.target in selected
            if item.isSelected() != wanted:
                item.setSelected(wanted)

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.node_items:
                self.node_items[node_id].setSelected(True)

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    # -- gestures ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.node_at(event.scenePos())
            port = item.port_at(event.scenePos()) if item is not None else None
            if item is not None and port is not None and port[0] == "out":
                self._drag = (item.node_id, port[1])
                self._drag_path = QGraphicsPathItem()
                self._drag_path.setPen(QPen(QColor(current_theme().selection), 2,
                                            Qt.PenStyle.DashLine))
                self._drag_path.setZValue(5)
                self.addItem(self._drag_path)
                self._update_drag(event.scenePos())
                event.accept()
                return
        self._press_positions = {nid: (i.pos().x(), i.pos().y())
                                 for nid, i in self.node_items.items()}
        self._press_notes = {nid: (i.pos().x(), i.pos().y())
                             for nid, i in self.note_items.items()}
        super().mousePressEvent(event)

    def _update_drag(self, pos: QPointF) -> None:
        assert self._drag is not None and self._drag_path is not None
        source, handle = self._drag
        start = self.node_items[source].output_port(handle)
        dx = max(abs(pos.x() - start.x()) / 2, 40.0)
        path = QPainterPath(start)
        path.cubicTo(start + QPointF(dx, 0), pos - QPointF(dx, 0), pos)
        self._drag_path.setPath(path)
        target = self.node_at(pos)
        if target is not None and target.node_id == source:
            target = None
        if self._hovered is not None and self._hovered is not target:
            self._hovered.set_hover_state(None)
        self._hovered = target
        if target is not None:
            reason = self.doc.can_connect(source, handle, target.node_id)
            target.set_hover_state(reason is None)
            self.connection_feedback.emit(reason or "")
        else:
            self.connection_feedback.emit("")

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None:
            self._update_drag(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is not None:
            source, handle = self._drag
            target = self._hovered
            self._drag = None
            if self._drag_path is not None:
                self.removeItem(self._drag_path)
                self._drag_path = None
            if target is not None:
                target.set_hover_state(None)
                self._hovered = None
                if self.doc.can_connect(source, handle, target.node_id) is None:
                    self.connect_requested.emit(source, handle, target.node_id)
            self.connection_feedback.emit("")
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._finish_move()

    def _finish_move(self) -> None:
        """A drag ends: snap to the grid and report every moved node as one intent."""
        notes_before = self._press_notes or {}
        self._press_notes = None
        for note_id, note in self.note_items.items():
            was = notes_before.get(note_id)
            if was is not None and (note.pos().x(), note.pos().y()) != was:
                self.note_moved.emit(note_id, snap(note.pos().x()), snap(note.pos().y()))
        before = self._press_positions
        self._press_positions = None
        if not before:
            return
        moves = {}
        for node_id, item in self.node_items.items():
            old = before.get(node_id)
            if old is None:
                continue
            new = (snap(item.pos().x()), snap(item.pos().y()))
            if (item.pos().x(), item.pos().y()) != old:
                model = self.doc.node(node_id).position
                moves[node_id] = ((model.x, model.y), new)
        if moves:
            self.nodes_moved.emit(moves)

    # -- background --------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        theme = current_theme()
        painter.fillRect(rect, QColor(theme.canvas))
        scale = painter.worldTransform().m11()
        step = GRID if scale >= 0.6 else GRID * 5
        if scale < 0.15:
            return
        painter.setPen(QPen(QColor(theme.grid), 2 / max(scale, 0.3)))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        # the same points as stepping x and y by `step` (multiples of the grid are exact
        # in floating point), built without per-point Python loop overhead: this runs for
        # every frame, and at low zoom the grid has ~20,000 points
        xs = [left + i * step for i in range(max(0, math.ceil((rect.right() - left) / step)))]
        ys = [top + j * step for j in range(max(0, math.ceil((rect.bottom() - top) / step)))]
        painter.drawPoints([QPointF(x, y) for y in ys for x in xs])
