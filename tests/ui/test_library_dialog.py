"""The Workflows dialog acts on what the user sees: the highlighted, visible row."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from flowdesk.ui.dialogs import LibraryDialog
from flowdesk.ui.main_window import MainWindow


def _library(window: MainWindow, *names: str) -> LibraryDialog:
    for name in names:
        window.library.create(name)
    window.open_workflow(names[0])
    return window.files.show_library()


def _visible(dialog: LibraryDialog) -> list[str]:
    return [dialog.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(dialog.list.count()) if not dialog.list.item(i).isHidden()]


def _stored(window: MainWindow) -> list[str]:
    return sorted(w.name for w in window.library.workflows())


def test_delete_never_acts_on_a_row_hidden_by_the_filter(window, qtbot) -> None:
    dialog = _library(window, "Cool-down digest", "Untitled workflow", "Probe flow")
    qtbot.keyClicks(dialog.search, "zzz")  # nothing matches: nothing highlighted
    assert _visible(dialog) == [] and dialog.selected_name() is None
    dialog.buttons["Delete"].click()
    assert dialog.confirm is None
    assert "Select a workflow" in dialog.hint.text()
    assert _stored(window) == ["Cool-down digest", "Probe flow", "Untitled workflow"]
    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "Untitled")
    # the highlight follows the filter onto the one visible row
    assert _visible(dialog) == ["Untitled workflow"]
    assert dialog.selected_name() == "Untitled workflow"
    assert dialog.hint.text() == ""  # the hint went with the empty list
    dialog.buttons["Delete"].click()
    box = dialog.confirm
    assert isinstance(box, QMessageBox) and "'Untitled workflow'" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()  # asked, then kept
    assert _stored(window) == ["Cool-down digest", "Probe flow", "Untitled workflow"]
    dialog.buttons["Delete"].click()
    delete = next(b for b in dialog.confirm.buttons()
                  if dialog.confirm.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole)
    delete.click()
    assert _stored(window) == ["Cool-down digest", "Probe flow"]
    assert "Deleted the workflow 'Untitled workflow'" in window.last_notice


def test_enter_in_the_filter_opens_the_highlighted_row(window, qtbot) -> None:
    dialog = _library(window, "Alpha", "Refund approval", "Zeta")
    count = len(window.library.workflows())
    qtbot.keyClicks(dialog.search, "refund")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert window.doc.name == "Refund approval"
    assert len(window.library.workflows()) == count  # New is not what Enter does
    assert not dialog.isVisible()


def test_the_highlight_stays_on_a_renamed_or_duplicated_workflow(window, qtbot) -> None:
    dialog = _library(window, "Alpha", "Beta", "Gamma")
    dialog.list.setCurrentRow(_visible(dialog).index("Gamma"))

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QInputDialog)
        box.setTextValue("Omega")
        box.accept()

    QTimer.singleShot(0, answer)
    dialog.buttons["Rename…"].click()
    assert "Omega" in _stored(window)
    assert dialog.selected_name() == "Omega"
    dialog.buttons["Duplicate"].click()
    assert dialog.selected_name() == "Omega copy"
