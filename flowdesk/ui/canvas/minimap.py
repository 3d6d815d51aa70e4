"""The minimap: a small overview of the whole workflow in a corner of the canvas.

A small workflow (whose overview paints in under ``QUICK_MS``) is painted by Qt as any view.
A big one is painted once into a pixmap and, on each paint, that pixmap is shown with the main
view's visible area drawn over it, so scrolling the main view costs it a blit. When the scene
changes, the pixmap is painted again in vertical strips, one per turn of the event loop, into
a second pixmap that replaces the first when it is complete, so a workflow of thousands of
steps never holds the UI for a whole overview (one full paint of 5,000 steps and 7,500 edges
took 57–130 ms on the project's machine, and live runs change the scene every frame); and
after an overview that took T ms, the next one starts no sooner than 4·T ms later. The
strips are clipped at whole pixels of the same transform (compared with Qt's own paint: the
same picture, a few pixels differing by at most 3 of 255 in antialiasing).
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from flowdesk.ui.theme import current_theme

__all__ = ["MiniMap"]

QUICK_MS = 8.0  # an overview painting quicker than this is left to Qt
STRIP_PX = 12  # width of one strip of a paint spread over turns of the loop (≤ ~8 ms each)
PAUSE = 4.0  # after an overview that took T ms, the next starts T × PAUSE ms later at least


class MiniMap(QGraphicsView):
    """A small overview of the whole workflow; click or drag to move the main view.

    Its size follows the canvas (a fifth of its width, 120–220 px), it sits in the first
    corner that does not cover a selected item (bottom right, bottom left, top right, top
    left), and it hides when the canvas is too small for it or every corner is taken.
    ``wanted`` is the user's View → Minimap choice."""

    def __init__(self, main: QGraphicsView) -> None:  # the canvas's WorkflowView
        super().__init__(main)
        self.main = main
        self.wanted = True
        self._shown: QPixmap | None = None  # the overview painted last, complete
        self._shown_key: tuple[object, ...] | None = None
        self._next: QPixmap | None = None  # being painted strip by strip
        self._next_key: tuple[object, ...] | None = None
        self._next_strip = 0
        self._dirty = True  # the scene changed since _shown was painted
        self._cost_ms = 0.0  # what the last full paint took
        self._painting_cache = False  # drawForeground stays out of the pixmap
        self._strip_timer = QTimer(self, singleShot=True, interval=0)
        self._strip_timer.timeout.connect(self._paint_strip)
        self._done_at = 0.0  # when the last overview was complete (perf_counter)
        self._later = QTimer(self, singleShot=True)  # a repaint once the pause is over
        self._later.timeout.connect(self.viewport().update)
        self.setInteractive(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setFixedSize(200, 130)
        self.setStyleSheet("border: 1px solid rgba(128,128,128,120); border-radius: 6px;")
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)

    def set_wanted(self, wanted: bool) -> None:
        self.wanted = wanted
        self.place()

    def _selection_rect(self) -> QRect:
        scene = self.main.scene()
        if scene is None:
            return QRect()
        box = QRectF()
        for item in scene.selectedItems():
            box = box.united(item.sceneBoundingRect())
        if box.isNull():
            return QRect()
        return self.main.mapFromScene(box).boundingRect().adjusted(-8, -8, 8, 8)

    def place(self) -> None:
        area = self.main.viewport().rect()
        width = int(max(120, min(220, area.width() * 0.2)))
        height = int(width * 0.65)
        if self.size() != QSize(width, height):
            self.setFixedSize(width, height)
            self.refit()
        margin = 12
        fits = area.width() >= width * 3 and area.height() >= height * 2.2
        avoid = self._selection_rect()
        spot = None
        for x, y in ((area.right() - width - margin, area.bottom() - height - margin),
                     (area.left() + margin, area.bottom() - height - margin),
                     (area.right() - width - margin, area.top() + margin),
                     (area.left() + margin, area.top() + margin)):
            rect = QRect(x, y, width, height)
            if avoid.isNull() or not rect.intersects(avoid):
                spot = rect
                break
        if spot is not None and spot.topLeft() != self.pos():
            self.move(spot.topLeft())
        visible = self.wanted and fits and spot is not None and self.main.scene() is not None
        if visible == self.isHidden():  # isHidden: also right before the window is shown
            self.setVisible(visible)

    def refit(self) -> None:
        scene = self.scene()
        if scene is None:
            return
        rect = scene.itemsBoundingRect()
        if rect.isEmpty():
            rect = QRectF(-400, -300, 800, 600)
        self.fitInView(rect.adjusted(-200, -200, 200, 200), Qt.AspectRatioMode.KeepAspectRatio)

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, QColor(current_theme().window))

    def setScene(self, scene: QGraphicsScene | None) -> None:
        old = self.scene()
        if old is not None:
            old.changed.disconnect(self._scene_changed)
        super().setScene(scene)
        if scene is not None:
            scene.changed.connect(self._scene_changed)
        self._shown = self._next = None
        self._dirty = True
        self._cost_ms = 0.0

    def _scene_changed(self, _rects: object = None) -> None:
        self._dirty = True

    def _key(self) -> tuple[object, ...]:
        """What the pixmap depends on besides the scene: size, transform, scroll, theme."""
        area = self.mapToScene(self.viewport().rect()).boundingRect()
        return (self.viewport().size().toTuple(), self.devicePixelRatioF(),
                area.getRect(), id(current_theme()), current_theme().window)

    def _new_pixmap(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        size = self.viewport().size()
        pixmap = QPixmap(QSize(math.ceil(size.width() * ratio),
                               math.ceil(size.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        return pixmap

    def _render_into(self, pixmap: QPixmap, area: QRect) -> None:
        painter = QPainter(pixmap)
        painter.setRenderHints(self.renderHints())
        painter.setClipRect(area)
        self._painting_cache = True
        try:
            self.render(painter, QRectF(area), area)
        finally:
            self._painting_cache = False
            painter.end()

    def _paint_all(self) -> None:
        start = time.perf_counter()
        key = self._key()
        pixmap = self._new_pixmap()
        self._dirty = False
        self._render_into(pixmap, self.viewport().rect())
        self._shown, self._shown_key, self._next = pixmap, key, None
        self._done_at = time.perf_counter()
        self._cost_ms = (self._done_at - start) * 1000

    def _paint_strip(self) -> None:
        if self._next is None:
            return
        if self._next_key != self._key():  # resized or moved meanwhile: start again
            self._next = None
            self.viewport().update()
            return
        start = time.perf_counter()
        rect = self.viewport().rect()
        left = self._next_strip * STRIP_PX
        self._render_into(self._next, QRect(left, 0, STRIP_PX, rect.height()))
        self._next_strip += 1
        self._cost_ms += (time.perf_counter() - start) * 1000
        if left + STRIP_PX < rect.width():
            self._strip_timer.start()
            return
        self._shown, self._shown_key, self._next = self._next, self._next_key, None
        self._done_at = time.perf_counter()
        self.viewport().update()

    def _start_strips(self, key: tuple[object, ...]) -> None:
        self._dirty = False
        self._next, self._next_key, self._next_strip = self._new_pixmap(), key, 0
        self._cost_ms = 0.0
        self._strip_timer.start()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._cost_ms < QUICK_MS and self._next is None:
            # a small workflow: Qt's own paint, timed to know when the scene gets big
            start = time.perf_counter()
            super().paintEvent(event)
            self._cost_ms = (time.perf_counter() - start) * 1000
            self._shown = None
            return
        key = self._key()
        if self._shown is None or self._shown_key != key:
            self._paint_all()
        elif self._dirty and self._next is None:  # a big scene changed: paint it in strips
            wait_ms = (self._done_at - time.perf_counter()) * 1000 + self._cost_ms * PAUSE
            if wait_ms > 0:  # the overview keeps the UI's time for the UI
                if not self._later.isActive():
                    self._later.start(math.ceil(wait_ms))
            else:
                self._start_strips(key)
        assert self._shown is not None
        painter = QPainter(self.viewport())
        painter.drawPixmap(0, 0, self._shown)
        painter.setRenderHints(self.renderHints())
        painter.setTransform(self.viewportTransform())
        self.drawForeground(painter, self.mapToScene(self.viewport().rect()).boundingRect())
        painter.end()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        if self._painting_cache:
            return
        visible = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        color = QColor(current_theme().selection)
        painter.setPen(QPen(color, 2 / max(self.transform().m11(), 1e-3)))
        color.setAlpha(30)
        painter.setBrush(color)
        painter.drawRect(visible)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.main.centerOn(self.mapToScene(event.position().toPoint()))
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.mousePressEvent(event)
