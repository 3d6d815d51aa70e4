from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsView


def _send(view: QGraphicsView, kind: QEvent.Type, scene_pos: QPointF,
          buttons: Qt.MouseButton, button: Qt.MouseButton) -> None:
    local = view.mapFromScene(scene_pos)
    global_pos = view.viewport().mapToGlobal(local)
    event = QMouseEvent(kind, QPointF(local), QPointF(global_pos), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view: QGraphicsView, start: QPointF, end: QPointF, steps: int = 4) -> None:
    """Press at ``start``, move in a few steps, release at ``end`` (scene coordinates)."""
    left = Qt.MouseButton.LeftButton
    _send(view, QEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        _send(view, QEvent.Type.MouseMove, point, left, Qt.MouseButton.NoButton)
    _send(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, left)


def viewport_point(view: QGraphicsView, scene_pos: QPointF) -> QPoint:
    return view.mapFromScene(scene_pos)
