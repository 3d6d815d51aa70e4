"""The difference from a version, drawn over the canvas: steps added since then glow green,
changed ones amber (their tooltip lists the changed fields), removed ones come back as
ghosts (semi-transparent, at their old place, neither selectable, movable nor hit by
gestures). The overlay only decorates the scene; it never edits the document, and
``clear()`` takes every mark away."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QGraphicsItem

from flowdesk.engine.rules import output_ports
from flowdesk.model.diff import WorkflowDiff, format_change
from flowdesk.model.errors import UnknownStepType
from flowdesk.model.workflow import Workflow
from flowdesk.ui.canvas.items import NodeItem
from flowdesk.ui.canvas.scene import WorkflowScene

__all__ = ["ADDED", "CHANGED", "DiffOverlay", "GhostNodeItem"]

ADDED = QColor("#2fbf71")
CHANGED = QColor("#f0a020")


class GhostNodeItem(NodeItem):
    """A removed step as it was: drawn faintly, not part of the document."""

    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.setFlags(QGraphicsItem.GraphicsItemFlag(0))
        self.setEnabled(False)
        self.setOpacity(0.35)
        self.setZValue(0)

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never under the mouse: gestures pass through


class DiffOverlay:
    def __init__(self, scene: WorkflowScene) -> None:
        self.scene = scene
        self.ghosts: dict[str, GhostNodeItem] = {}
        self.marked: dict[str, str] = {}  # step id -> "added" | "changed"

    def show(self, old: Workflow, diff: WorkflowDiff, version: int) -> None:
        self.clear()
        registry = self.scene.doc.registry
        for change in diff.steps:
            if change.kind == "removed":
                node = old.node(change.step_id)
                ghost = GhostNodeItem(node.id)
                try:
                    entry = registry.get(node.type).catalog
                    ghost.set_model(node.label, entry.label, entry.category, entry.icon,
                                    output_ports(node, entry.ports), entry.trigger)
                except (UnknownStepType, ImportError):
                    ghost.set_model(node.label, f"unknown: {node.type}", "", "test", (), False)
                ghost.setPos(node.position.x, node.position.y)
                ghost.setToolTip(f"removed since version {version}")
                self.scene.addItem(ghost)
                self.ghosts[node.id] = ghost
                continue
            item = self.scene.node_items.get(change.step_id)
            if item is None:
                continue
            glow = QGraphicsDropShadowEffect()
            glow.setColor(ADDED if change.kind == "added" else CHANGED)
            glow.setBlurRadius(28)
            glow.setOffset(0, 0)
            item.setGraphicsEffect(glow)
            item.setToolTip(f"since version {version}: {format_change(change)}")
            self.marked[change.step_id] = change.kind

    def clear(self) -> None:
        for ghost in self.ghosts.values():
            if ghost.scene() is self.scene:
                self.scene.removeItem(ghost)
        self.ghosts.clear()
        for step_id in self.marked:
            item = self.scene.node_items.get(step_id)
            if item is not None:
                item.setGraphicsEffect(None)  # type: ignore[arg-type]
                item.setToolTip("")
        self.marked.clear()
