"""Graphics items. They only show the model: the scene sets their state through setters,
keyed by node or edge id, and never reads workflow state back from them."""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsTextItem,
    QStyle,
    QStyleOptionGraphicsItem,
    QWidget,
)

from flowdesk.document.run_controller import StepView
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import ERROR_PORT
from flowdesk.ui.theme import STATUS_COLORS, category_color, current_theme, svg_renderer

__all__ = ["ERROR_PORT_COLOR", "EdgeItem", "NodeItem", "NoteItem"]

NODE_W, NODE_H = 220.0, 68.0
PORT_R = 6.0
PORT_LABEL_W = 64.0  # room for an output port's name, right of the node
_EDGE_LOOKS: dict[tuple[object, ...], tuple[QPen, QBrush]] = {}  # see EdgeItem._apply_pen
_NODE_BOUNDS = QRectF(-PORT_R - 10, -12, NODE_W + 2 * PORT_R + 20 + PORT_LABEL_W, NODE_H + 34)
HOVER_OK, HOVER_REFUSED = "#16a34a", "#dc2626"
ERROR_PORT_COLOR = "#dc2626"
_GLYPHS = {StepStatus.COMPLETED: "✓", StepStatus.FAILED: "✕", StepStatus.SKIPPED: "–",
           StepStatus.WAITING: "❚❚", StepStatus.CANCELLED: "■", StepStatus.PENDING: "•"}


@cache
def icon_pixmap(name: str, size: int) -> QPixmap:
    """The step's SVG icon rendered once per size (rendering SVG on every paint is slow)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    svg_renderer(name).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


class NodeItem(QGraphicsObject):
    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.label = node_id
        self.type_name = ""
        self.category = ""
        self.icon = "test"
        self.ports: tuple[str | None, ...] = ()  # the output handles (None: the one output)
        self.trigger = False
        self.view: StepView | None = None
        self.problems: list[str] = []
        self.phase = 0.0  # animation phase of the running badge
        self.hover_state: bool | None = None  # connection feedback: True ok, False refused
        self._status_tip = ""
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    # -- setters (the only way state gets in) ------------------------------------------------
    def set_model(self, label: str, type_name: str, category: str, icon: str,
                  ports: tuple[str | None, ...], trigger: bool) -> None:
        if (self.label, self.type_name, self.category, self.icon, self.ports, self.trigger) \
                == (label, type_name, category, icon, ports, trigger):
            return
        self.prepareGeometryChange()
        self.label, self.type_name, self.category, self.icon = label, type_name, category, icon
        self.ports, self.trigger = ports, trigger
        self.update()

    def set_view(self, view: StepView | None) -> None:
        self.view = view
        tip = f"{view.status.value}: {view.error}" if view is not None and view.error else ""
        if tip != self._status_tip:
            self._status_tip = tip
            self._update_tooltip(tip)
        self.update()

    def set_problems(self, problems: list[str]) -> None:
        if problems == self.problems:
            return
        self.problems = problems
        self._update_tooltip(self._status_tip)
        self.update()

    def set_hover_state(self, state: bool | None) -> None:
        if state != self.hover_state:
            self.hover_state = state
            self.update()

    def _update_tooltip(self, status_tip: str) -> None:
        lines = [f"{self.label} ({self.type_name})"]
        lines += [f"⚠ {p}" for p in self.problems]
        if status_tip:
            lines.append(status_tip)
        self.setToolTip("\n".join(lines))

    # -- geometry ----------------------------------------------------------------------------
    def output_handles(self) -> tuple[str | None, ...]:
        return self.ports if self.ports else (None,)

    def input_port(self) -> QPointF:
        return self.mapToScene(QPointF(0, NODE_H / 2))

    def _output_local(self, handle: str | None) -> QPointF:
        handles = self.output_handles()
        index = handles.index(handle) if handle in handles else 0
        return QPointF(NODE_W, NODE_H * (index + 1) / (len(handles) + 1))

    def output_port(self, handle: str | None) -> QPointF:
        return self.mapToScene(self._output_local(handle))

    def port_at(self, scene_pos: QPointF) -> tuple[str, str | None] | None:
        """("out", handle) or ("in", None) when ``scene_pos`` is on a port."""
        local = self.mapFromScene(scene_pos)
        for handle in self.output_handles():
            if (local - self._output_local(handle)).manhattanLength() <= PORT_R * 2.2:
                return ("out", handle)
        if not self.trigger and (local - QPointF(0, NODE_H / 2)).manhattanLength() <= \
                PORT_R * 2.2:
            return ("in", None)
        return None

    def boundingRect(self) -> QRectF:
        return QRectF(_NODE_BOUNDS)  # Qt asks for it per item per paint: no arithmetic

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-PORT_R, 0, NODE_W + 2 * PORT_R, NODE_H), 10, 10)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            scene = self.scene()
            if scene is not None and hasattr(scene, "node_item_moved"):
                scene.node_item_moved(self.node_id)
        return super().itemChange(change, value)

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        theme = current_theme()
        rect = QRectF(0, 0, NODE_W, NODE_H)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.45:
            self._paint_overview(painter, rect)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._border_pen())
        painter.setBrush(QColor(theme.node))
        painter.drawRoundedRect(rect, 10, 10)
        # category strip
        color = category_color(self.category)
        strip = QPainterPath()
        strip.addRoundedRect(QRectF(0, 0, 8, NODE_H), 4, 4)
        painter.fillPath(strip, color)
        # icon disc
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        icon_rect = QRectF(18, (NODE_H - 34) / 2, 34, 34)
        painter.drawRoundedRect(icon_rect, 9, 9)
        painter.drawPixmap(icon_rect.adjusted(7, 7, -7, -7).toRect(),
                           icon_pixmap(self.icon, 40))
        # texts
        painter.setPen(QColor(theme.text))
        font = QFont(painter.font())
        font.setPointSizeF(10)
        font.setBold(True)
        painter.setFont(font)
        text_w = NODE_W - 64 - 22
        label = painter.fontMetrics().elidedText(self.label, Qt.TextElideMode.ElideRight,
                                                 int(text_w))
        painter.drawText(QRectF(62, 14, text_w, 20), Qt.AlignmentFlag.AlignVCenter, label)
        font.setBold(False)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.setPen(QColor(theme.subtext))
        painter.drawText(QRectF(62, 36, text_w, 18), Qt.AlignmentFlag.AlignVCenter,
                         self.type_name)
        # ports
        painter.setPen(QPen(QColor(theme.node), 2))
        painter.setBrush(QColor(theme.edge))
        if not self.trigger:
            painter.drawEllipse(QPointF(0, NODE_H / 2), PORT_R, PORT_R)
        small = QFont(font)
        small.setPointSizeF(7.5)
        for handle in self.output_handles():
            pos = self._output_local(handle)
            # the error port (a failure leaves through it) is red, port and name
            port_color = QColor(ERROR_PORT_COLOR if handle == ERROR_PORT else theme.edge)
            painter.setPen(QPen(QColor(theme.node), 2))
            painter.setBrush(port_color)
            painter.drawEllipse(pos, PORT_R, PORT_R)
            if handle is not None:
                painter.setFont(small)
                painter.setPen(port_color if handle == ERROR_PORT else QColor(theme.subtext))
                # outside the node, just above its port: never over the title
                painter.drawText(QRectF(pos.x() + PORT_R + 2, pos.y() - 17, PORT_LABEL_W, 14),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 handle)
        self._paint_status(painter, font)
        if self.problems:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#dc2626"))
            painter.drawEllipse(QPointF(4, 2), 9, 9)
            painter.setPen(QColor("white"))
            bold = QFont(font)
            bold.setBold(True)
            bold.setPointSizeF(9)
            painter.setFont(bold)
            painter.drawText(QRectF(-5, -7, 18, 18), Qt.AlignmentFlag.AlignCenter, "!")

    def border_color(self) -> QColor:
        """Connection feedback (accept / refuse) over selection over run status."""
        if self.hover_state is not None:
            return QColor(HOVER_OK if self.hover_state else HOVER_REFUSED)
        if self.isSelected():
            return QColor(current_theme().selection)
        status = self.view.status if self.view is not None else None
        if status is not None and status is not StepStatus.PENDING:
            return QColor(STATUS_COLORS[status])
        return QColor(current_theme().node_border)

    def _border_pen(self) -> QPen:
        width = 1.0
        if self.view is not None and self.view.status is not StepStatus.PENDING:
            width = 1.6
        if self.isSelected():
            width = 2.0
        if self.hover_state is not None:
            width = 2.5
        return QPen(self.border_color(), width)

    def _paint_overview(self, painter: QPainter, rect: QRectF) -> None:
        """Zoomed far out: a plain block in the category colour, outlined by status."""
        theme = current_theme()
        view = self.view
        border = self.border_color()
        emphasis = view is not None or self.isSelected() or self.hover_state is not None
        painter.setPen(QPen(border, 6 if emphasis else 2))
        painter.setBrush(QColor(theme.node))
        painter.drawRect(rect)
        painter.fillRect(QRectF(0, 0, 60, NODE_H), category_color(self.category))
        if self.problems:
            painter.fillRect(QRectF(NODE_W - 40, 0, 40, 40), QColor("#dc2626"))

    def _paint_status(self, painter: QPainter, font: QFont) -> None:
        view = self.view
        if view is None:
            return
        color = QColor(STATUS_COLORS[view.status])
        center = QPointF(NODE_W - 18, 0)  # on the top edge, clear of the port labels
        if view.status is StepStatus.RUNNING:
            painter.setPen(QPen(QColor(color.red(), color.green(), color.blue(), 60), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, 7, 7)
            painter.setPen(QPen(color, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            start = int(-self.phase * 360 * 16) % (360 * 16)
            painter.drawArc(QRectF(center.x() - 7, center.y() - 7, 14, 14), start, 100 * 16)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(center, 9, 9)
            painter.setPen(QColor("white"))
            glyph_font = QFont(font)
            glyph_font.setBold(True)
            glyph_font.setPointSizeF(7.5)
            painter.setFont(glyph_font)
            painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18),
                             Qt.AlignmentFlag.AlignCenter, _GLYPHS.get(view.status, ""))
        parts = [view.status.value + (" → error port" if view.branch == ERROR_PORT else "")]
        if view.attempt > 1:
            parts.append(f"{view.attempt} attempts")
        if view.duration_ms is not None and view.status is not StepStatus.RUNNING:
            parts.append(_fmt_ms(view.duration_ms))
        info = QFont(font)
        info.setPointSizeF(8)
        painter.setFont(info)
        painter.setPen(color)
        painter.drawText(QRectF(8, NODE_H + 2, NODE_W - 8, 16),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         " · ".join(parts))


class EdgeItem(QGraphicsPathItem):
    """A connection. Painted by Qt's own path painting (the Python ``paint`` only drops the
    selection box): its pen changes only when its state, problems or selection change; the
    arrowhead is a native child item."""

    def __init__(self, edge_id: str, source: str, handle: str | None, target: str) -> None:
        super().__init__()
        self.edge_id = edge_id
        self.source = source
        self.handle = handle
        self.target = target
        self.state: str | None = None  # "taken", "dead" or None
        self.problems: list[str] = []
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.arrow = QGraphicsPolygonItem(self)
        self.arrow.setPen(QPen(Qt.PenStyle.NoPen))
        self._apply_pen()

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        dx = max(abs(end.x() - start.x()) / 2, 50.0)
        path = QPainterPath(start)
        path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
        self.setPath(path)
        # the arrowhead points along the curve's last stretch, which is horizontal
        size = 7.0
        self.arrow.setPolygon(QPolygonF([end, end - QPointF(size, size * 0.6),
                                         end - QPointF(size, -size * 0.6)]))

    def set_state(self, state: str | None) -> None:
        if state != self.state:
            self.state = state
            self._apply_pen()

    def set_problems(self, problems: list[str]) -> None:
        if problems == self.problems:  # a new edge has none, and no tooltip: nothing to do
            return
        self.problems = problems
        self.setToolTip("\n".join(f"⚠ {p}" for p in problems))
        self._apply_pen()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._apply_pen()
        return super().itemChange(change, value)

    def _apply_pen(self) -> None:
        theme = current_theme()
        key = (theme.edge, theme.dead_edge, theme.selection, self.state, bool(self.problems),
               self.isSelected())
        look = _EDGE_LOOKS.get(key)
        if look is None:  # a few distinct looks, shared by thousands of edges
            color, width, style = QColor(theme.edge), 2.0, Qt.PenStyle.SolidLine
            if self.state == "taken":
                color, width = QColor(STATUS_COLORS[StepStatus.COMPLETED]), 3.0
            elif self.state == "dead":
                color, style = QColor(theme.dead_edge), Qt.PenStyle.DashLine
            if self.problems:
                color = QColor("#dc2626")
            if self.isSelected():
                color, width = QColor(theme.selection), width + 1
            pen = QPen(color, width, style, Qt.PenCapStyle.RoundCap)
            pen.setCosmetic(True)
            look = _EDGE_LOOKS[key] = (pen, QBrush(color))
        self.setPen(look[0])
        self.arrow.setBrush(look[1])

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        # selection shows as the highlighted pen (see _apply_pen), not Qt's dashed box; the
        # test first, as this runs for every edge in every frame
        if self.isSelected():
            option.state &= ~QStyle.StateFlag.State_Selected
        QGraphicsPathItem.paint(self, painter, option, widget)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())


class NoteItem(QGraphicsTextItem):
    """A sticky note: yellow, movable, its text edited in place (double-click)."""

    def __init__(self, note_id: str) -> None:
        super().__init__()
        self.note_id = note_id
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setDefaultTextColor(QColor("#3f3a1e"))
        self.setZValue(-1)
        self.editing_finished: Any = None  # set by the scene: callback(note_id, text)

    def set_text(self, text: str) -> None:
        if self.toPlainText() != text:
            self.setPlainText(text)

    def set_width(self, width: float) -> None:
        self.setTextWidth(width)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        rect = self.boundingRect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#e0c96a") if not self.isSelected()
                            else QColor(current_theme().selection), 1.5))
        painter.setBrush(QColor("#fff4b8"))
        painter.drawRoundedRect(rect, 6, 6)
        # the selection shows as the border above, not Qt's dashed box
        option.state &= ~(QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus)
        super().paint(painter, option, widget)  # type: ignore[arg-type]  # Qt accepts no widget

    def mouseDoubleClickEvent(self, event: Any) -> None:
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus()
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clearFocus()  # ends editing; focusOutEvent stores the text
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        super().focusOutEvent(event)
        if self.editing_finished is not None:
            self.editing_finished(self.note_id, self.toPlainText())
