"""Canvas gestures as a person makes them: typing in a sticky note, selecting with the
mouse (Shift/Ctrl+click, rubber band), F2, paste position, connection feedback."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from flowdesk.ui.canvas.items import NODE_H, NODE_W
from flowdesk.ui.main_window import MainWindow
from tests.ui.helpers import _send
from tests.ui.test_editor import add_two


def _note_point(window: MainWindow, note_id: str):
    item = window.scene.note_items[note_id]
    return window.view.mapFromScene(item.sceneBoundingRect().center())


def test_typing_in_a_sticky_note_keeps_spaces_and_canvas_keys(window, qtbot) -> None:
    window.new_workflow()
    window.view.setFocus()
    note_id = window.add_note()
    window.doc.undo_stack.clear()
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, _note_point(window, note_id))
    assert window.view.editing_text()
    item = window.scene.note_items[note_id]
    cursor = item.textCursor()
    cursor.select(cursor.SelectionType.Document)
    item.setTextCursor(cursor)
    # Space would pan, F would zoom to fit, Delete/Backspace delete the note: here they type
    qtbot.keyClicks(window.view, "Fix two items")
    qtbot.keyClick(window.view, Qt.Key.Key_Backspace)
    qtbot.keyClicks(window.view, "S")
    assert not window.view._space
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)  # ends editing, stores the text
    assert window.doc.note(note_id)["text"] == "Fix two itemS"
    assert not window.view.editing_text()
    assert note_id in window.scene.note_items  # Backspace did not delete the note
    # once editing ended, Space pans again
    qtbot.keyPress(window.view, Qt.Key.Key_Space)
    assert window.view._space
    qtbot.keyRelease(window.view, Qt.Key.Key_Space)
    window.act_undo.trigger()
    assert window.doc.note(note_id)["text"] == "Note"


def _border_pixel(window: MainWindow, node_id: str):
    """The colour the user sees in the middle of a node's top border."""
    from PySide6.QtGui import QColor, QImage, QPainter

    item = window.scene.node_items[node_id]
    top = item.mapToScene(QPointF(NODE_W / 2, 0))
    source = QRectF(top.x() - 5, top.y() - 5, 10, 10)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    window.scene.render(painter, QRectF(0, 0, 10, 10), source)
    painter.end()
    return QColor(image.pixel(5, 5))


def test_a_refused_connection_shows_red_even_over_a_status_colour(window, qtbot) -> None:
    from flowdesk.document.run_controller import StepView
    from flowdesk.model.status import StepStatus

    window.new_workflow()
    a, b = add_two(window)
    window.actions_.connect(a, None, b)
    window.scene.apply_step_views({a: StepView(status=StepStatus.COMPLETED)})
    assert _border_pixel(window, a).green() > 120  # the completed badge's green border
    items = window.scene.node_items
    left = Qt.MouseButton.LeftButton
    start = items[b].output_port(None)
    over_a = items[a].pos() + QPointF(NODE_W / 2, NODE_H / 2)
    _send(window.view, QEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, 5):
        _send(window.view, QEvent.Type.MouseMove, start + (over_a - start) * (i / 4),
              left, Qt.MouseButton.NoButton)
    assert items[a].hover_state is False  # b -> a would close a cycle
    color = _border_pixel(window, a)
    assert color.red() > 180 and color.green() < 100, color.name()
    _send(window.view, QEvent.Type.MouseButtonRelease, over_a, Qt.MouseButton.NoButton, left)
    assert items[a].hover_state is None
    assert len(window.doc.workflow.edges) == 1
    assert _border_pixel(window, a).green() > 120
