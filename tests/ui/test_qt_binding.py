"""Guards against a Qt binding that corrupts reference counts.

PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every void-returning call
(QPainter.setPen, drawText, ...): a canvas repaint makes hundreds of them, and the app aborts
with "none_dealloc: deallocating None" after a while. pyproject.toml excludes that release;
this test fails if an upgrade brings the bug back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_void_calls_keep_the_refcount_of_none(qapp) -> None:
    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    timer = QTimer()
    calls = [
        lambda: painter.setPen(QPen(QColor("red"), 1.0)),
        lambda: painter.setBrush(QColor("blue")),
        lambda: painter.drawText(QRectF(0, 0, 50, 20), Qt.AlignmentFlag.AlignLeft, "x"),
        lambda: timer.setInterval(5),
    ]
    try:
        for call in calls:
            before = sys.getrefcount(None)
            for _ in range(200):
                call()
            assert abs(sys.getrefcount(None) - before) < 50
    finally:
        painter.end()
