"""Canvas gestures as a person makes them: typing in a sticky note, selecting with the
mouse (Shift/Ctrl+click, rubber band), F2, paste position, connection feedback."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from flowdesk.ui.main_window import MainWindow


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
