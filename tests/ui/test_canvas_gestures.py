"""Canvas gestures as a person makes them: typing in a sticky note, selecting with the
mouse (Shift/Ctrl+click, rubber band), F2, paste position, connection feedback."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStyle

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
    window.menus.act_undo.trigger()
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
    window.canvas_actions.connect(a, None, b)
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


def _click(window: MainWindow, node_id: str, mods=Qt.KeyboardModifier.NoModifier) -> None:
    item = window.scene.node_items[node_id]
    point = window.view.mapFromScene(item.mapToScene(QPointF(NODE_W / 2, NODE_H / 2)))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, mods, point)


def _three(window: MainWindow) -> None:
    from flowdesk.document.commands import AddItemsCommand

    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [
        {"id": n, "type": "transform", "position": {"x": x, "y": y},
         "data": {"label": n.upper(), "config": {"output": 1}}}
        for n, x, y in (("a", 0, 0), ("b", 400, 0), ("c", 400, 300))],
        [{"id": "e1", "source": "a", "target": "b"}, {"id": "e2", "source": "a", "target": "c"}],
        "Add"))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 150))


def test_shift_click_adds_ctrl_click_toggles(window) -> None:
    window.new_workflow()
    _three(window)
    shift, ctrl = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
    _click(window, "a")
    assert window.scene.selected_node_ids() == ["a"]
    _click(window, "b", shift)
    _click(window, "c", shift)
    assert sorted(window.scene.selected_node_ids()) == ["a", "b", "c"]
    _click(window, "b", shift)  # Shift never removes
    assert sorted(window.scene.selected_node_ids()) == ["a", "b", "c"]
    _click(window, "b", ctrl)  # Ctrl toggles
    assert sorted(window.scene.selected_node_ids()) == ["a", "c"]
    _click(window, "b")  # a plain click selects only that one
    assert window.scene.selected_node_ids() == ["b"]


def test_rubber_band_takes_nodes_and_only_the_edges_between_them(window) -> None:
    window.new_workflow()
    _three(window)
    scene = window.scene
    # a band around a and b that also crosses the edge a -> c
    band_from = QPointF(-40, -40)
    band_to = QPointF(400 + NODE_W + 30, NODE_H + 60)
    assert scene.edge_items["e2"].sceneBoundingRect().intersects(QRectF(band_from, band_to))
    from tests.ui.helpers import drag

    drag(window.view, band_from, band_to, steps=6)
    assert sorted(scene.selected_node_ids()) == ["a", "b"]
    assert scene.selected_edge_ids() == ["e1"]
    window.menus.act_delete.trigger()
    assert [n.id for n in window.doc.workflow.nodes] == ["c"]
    assert window.doc.workflow.edges == []  # e2 went with a, as the user could see


def test_a_selected_edge_is_drawn_highlighted_without_a_dashed_box(window) -> None:
    from PySide6.QtGui import QColor, QImage, QPainter

    window.new_workflow()
    _three(window)
    edge = window.scene.edge_items["e2"]
    edge.setSelected(True)
    from flowdesk.ui.theme import current_theme

    assert edge.pen().color() == QColor(current_theme().selection)
    box = edge.boundingRect()
    image = QImage(int(box.width()) + 2, int(box.height()) + 2, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.translate(-box.left() + 1, -box.top() + 1)
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    option = QStyleOptionGraphicsItem()
    option.state = QStyle.StateFlag.State_Selected
    option.exposedRect = box
    edge.paint(painter, option, None)
    painter.end()
    # the dashed selection box runs along the bounding rect; the curve leaves the corners
    corner = QColor(image.pixel(2, image.height() - 3))
    assert corner == QColor("white"), corner.name()


def test_f2_puts_the_cursor_in_the_selected_steps_label(window, qtbot) -> None:
    window.new_workflow()
    _three(window)
    window.view.setFocus()
    window.menus.act_rename_step.trigger()
    assert "Select one step" in window.last_notice
    window.scene.select_nodes(["b"])
    window.activateWindow()
    qtbot.keyClick(window.view, Qt.Key.Key_F2)
    field = window.inspector.fields["@label"]
    assert field.hasFocus() and field.selectedText() == "B"
    qtbot.keyClicks(field, "Fetch orders")
    assert window.doc.node("b").data.label == "Fetch orders"


def test_paste_lands_under_the_mouse_or_in_the_middle_of_the_view(window) -> None:
    from PySide6.QtGui import QCursor

    window.new_workflow()
    _three(window)
    window.menus.act_select_all.trigger()
    window.menus.act_copy.trigger()
    window.new_workflow()  # another workflow, its view somewhere else
    window.view.centerOn(QPointF(5000, 3000))
    QCursor.setPos(window.mapToGlobal(window.rect().topLeft()) - QPoint(50, 50))  # off canvas
    window.menus.act_paste.trigger()
    middle = window.view.mapToScene(window.view.viewport().rect().center())
    visible = window.view.visible_scene_rect()
    items = window.scene.node_items
    assert sorted(items) == ["a", "b", "c"]
    for item in items.values():
        assert visible.contains(item.sceneBoundingRect().center())
    block = QRectF()
    for item in items.values():
        block = block.united(item.mapRectToScene(QRectF(0, 0, NODE_W, NODE_H)))
    assert (block.center() - middle).manhattanLength() <= 40
    # with the mouse over the canvas, the block is centred under it
    spot = window.view.viewport().rect().topLeft() + QPoint(250, 200)
    QCursor.setPos(window.view.viewport().mapToGlobal(spot))
    assert window.view.viewport().mapFromGlobal(QCursor.pos()) == spot
    pasted = window.paste_here()
    block = QRectF()
    for node_id in pasted:
        block = block.united(items[node_id].mapRectToScene(QRectF(0, 0, NODE_W, NODE_H)))
    assert (block.center() - window.view.mapToScene(spot)).manhattanLength() <= 40


def test_closing_the_window_while_typing_in_a_note_keeps_the_text(window, qtbot) -> None:
    window.new_workflow()
    name = window.doc.name
    note_id = window.add_note()
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, _note_point(window, note_id))
    qtbot.keyClicks(window.view, " to self")
    assert window.view.editing_text()
    window.close()
    stored, _ = window.library.store.get_draft(name)
    notes = (stored.model_extra or {}).get("notes")
    assert notes and notes[0]["text"].endswith(" to self")
