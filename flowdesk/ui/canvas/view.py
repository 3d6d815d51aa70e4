"""The canvas view: zoom (wheel, keys), pan (middle drag, space+drag), fit, drops from the
palette, rubber-band selection, and a minimap in the corner.

While a sticky note is being typed in, its keys are the note's: Space does not pan and the
canvas's single-key shortcuts (Delete, F, Tab, Shift+N...) do not fire."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsTextItem,
    QGraphicsView,
    QWidget,
)

from flowdesk.ui.canvas.minimap import MiniMap
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.mime import STEP_MIME, dragged_step, workflow_files

# STEP_MIME and MiniMap: re-exported from ui.mime and canvas.minimap
__all__ = ["STEP_MIME", "MiniMap", "WorkflowView"]
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0


class WorkflowView(QGraphicsView):
    step_dropped = Signal(str, QPointF)  # step type, scene position
    file_dropped = Signal(str)  # a workflow .json file dropped on the canvas

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self._pan_from: QPoint | None = None
        self._least_zoom = MIN_ZOOM  # lower for a workflow that fits only below it
        self._space = False
        self._kept_by_shift: list[QGraphicsItem] = []
        self.minimap = MiniMap(self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def setScene(self, scene: QGraphicsScene | None) -> None:
        """Show ``scene`` (a WorkflowScene; the minimap follows it)."""
        super().setScene(scene)
        self.minimap.setScene(scene)
        self.minimap.refit()
        if isinstance(scene, WorkflowScene):
            # the minimap moves out of the way of the selection
            scene.selectionChanged.connect(self.minimap.place)
            scene.nodes_moved.connect(lambda _moves: self.minimap.place())
        self.minimap.place()

    # -- zoom --------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor_center: bool = False) -> None:
        # zoom to fit may show a very long workflow below MIN_ZOOM: the wheel then goes
        # between that fit and MAX_ZOOM step by step (it leapt to MIN_ZOOM, 50× at once)
        factor = max(self._least_zoom, min(MAX_ZOOM, factor))
        ratio = factor / self.zoom
        if anchor_center:
            old = self.transformationAnchor()
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
            self.scale(ratio, ratio)
            self.setTransformationAnchor(old)
        else:
            self.scale(ratio, ratio)
        self.minimap.place()
        self.minimap.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom * (1.15 ** steps))
        event.accept()

    def zoom_to_fit(self) -> None:
        scene = self.scene()
        if scene is None:
            return
        rect = QRectF()
        for item in scene.items():
            if item.isVisible() and item.zValue() >= 0:
                rect = rect.united(item.sceneBoundingRect())
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-60, -60, 60, 60)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._least_zoom = min(MIN_ZOOM, self.zoom)
        if self.zoom > 1.0:  # a small workflow is shown at its real size, as n8n and
            self.set_zoom(1.0, anchor_center=True)  # Node-RED do, not blown up to fill
        self.centerOn(rect.center())
        self.minimap.refit()
        self.minimap.place()

    # -- selection: Shift adds, Ctrl toggles; the rubber band takes nodes, not edges ------
    @staticmethod
    def _shift_adds(event: QMouseEvent) -> bool:
        """Shift (without Ctrl) means "add to the selection": Qt knows that gesture as Ctrl
        (no clearing on press, rubber band adds), so the event is passed on as Ctrl."""
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier and \
                not mods & Qt.KeyboardModifier.ControlModifier:
            event.setModifiers((mods & ~Qt.KeyboardModifier.ShiftModifier)
                               | Qt.KeyboardModifier.ControlModifier)
            return True
        return False

    def _limit_band_to_nodes(self) -> None:
        scene = self.scene()
        if isinstance(scene, WorkflowScene):
            scene.keep_edges_between_selected_nodes()

    # -- pan ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        self._kept_by_shift = []
        if event.button() == Qt.MouseButton.LeftButton and self._shift_adds(event):
            scene = self.scene()
            self._kept_by_shift = list(scene.selectedItems()) if scene is not None else []
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        self._shift_adds(event)
        super().mouseMoveEvent(event)
        if not self.rubberBandRect().isNull():
            self._limit_band_to_nodes()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the visible part of the scene by (dx, dy) screen pixels."""
        center = self.mapToScene(self.viewport().rect().center())
        self.centerOn(center - QPointF(dx / self.zoom, dy / self.zoom))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        banding = not self.rubberBandRect().isNull()
        shift = event.button() == Qt.MouseButton.LeftButton and self._shift_adds(event)
        clicked = self.itemAt(event.position().toPoint()) if shift else None
        while clicked is not None and clicked.parentItem() is not None and not \
                clicked.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsSelectable:
            clicked = clicked.parentItem()  # the arrowhead stands for its edge
        super().mouseReleaseEvent(event)
        if shift:
            # Shift adds, it never removes: what was selected stays, the clicked item joins
            for item in [*getattr(self, "_kept_by_shift", []), clicked]:
                if item is not None and item.scene() is self.scene() and \
                        item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsSelectable:
                    item.setSelected(True)
        self._kept_by_shift = []
        if banding:
            self._limit_band_to_nodes()

    def editing_text(self) -> bool:
        """True while a text item (a sticky note) on the canvas has the keyboard."""
        scene = self.scene()
        item = scene.focusItem() if scene is not None else None
        return isinstance(item, QGraphicsTextItem) and bool(
            item.textInteractionFlags() & Qt.TextInteractionFlag.TextEditable)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self.editing_text():
            assert isinstance(event, QKeyEvent)
            mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                         | Qt.KeyboardModifier.KeypadModifier)
            text_keys = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut,
                         QKeySequence.StandardKey.Paste, QKeySequence.StandardKey.SelectAll,
                         QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)
            if mods == Qt.KeyboardModifier.NoModifier or any(event.matches(k)
                                                               for k in text_keys):
                event.accept()  # the note gets the key, not a canvas shortcut
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.editing_text():
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and self._space:
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- drops from the palette --------------------------------------------------------------
    @staticmethod
    def _accepts(event: QDragEnterEvent | QDragMoveEvent) -> bool:
        return dragged_step(event.mimeData()) is not None or bool(
            workflow_files(event.mimeData()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        step_type = dragged_step(event.mimeData())
        if step_type is not None:
            self.step_dropped.emit(step_type, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        paths = workflow_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.file_dropped.emit(paths[0])
            return
        super().dropEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.minimap.place()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.minimap.place()
        self.minimap.viewport().update()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()
