"""The pin mark: a small badge on a step whose output is pinned (see "Test step").

A child item of the step's ``NodeItem``, on its top edge left of the status badge, so the
step item itself needs no state for it; the scene adds and removes it as the document's pins
change. Its tooltip says what a pin does.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

__all__ = ["PIN_COLOR", "PinMark"]

PIN_COLOR = "#7c3aed"  # violet: apart from every run-status colour
_R = 9.0


class PinMark(QGraphicsItem):
    def __init__(self, parent: QGraphicsItem, center: QPointF) -> None:
        super().__init__(parent)
        self.setPos(center)
        self.setZValue(2)
        self.setToolTip("Output pinned: Test step on the steps after this one uses the "
                        "pinned output instead of its last run (never used by real runs)")

    def boundingRect(self) -> QRectF:
        return QRectF(-_R - 1, -_R - 1, 2 * _R + 2, 2 * _R + 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(PIN_COLOR))
        painter.drawEllipse(QPointF(0, 0), _R, _R)
        # a push pin: round head, a collar, and the needle, tilted
        painter.rotate(35)
        white = QColor("white")
        painter.setBrush(white)
        painter.drawEllipse(QPointF(0, -3.2), 2.8, 2.8)
        collar = QPainterPath()
        collar.addRoundedRect(QRectF(-3.6, -0.8, 7.2, 1.8), 0.8, 0.8)
        painter.fillPath(collar, white)
        painter.setPen(QPen(white, 1.3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(0, 1.0), QPointF(0, 5.6))
