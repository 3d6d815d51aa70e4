"""The Versions window: every published version of the open workflow (number, time, node
count, note), the changes of the open draft since the picked one, shown as text and on the
canvas (see ``canvas/diff_overlay.py``), and Restore: the picked version's content replaces
the editor's, as ONE undo step (Ctrl+Z brings the draft back). Restoring edits the draft
only; Publish (Ctrl+S) then makes it live. Closing the window clears the canvas marks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.document.document import WorkflowDocument
from flowdesk.document.versions import WorkflowVersions
from flowdesk.ui.canvas.diff_overlay import DiffOverlay
from flowdesk.ui.canvas.scene import WorkflowScene

__all__ = ["VersionsDialog"]


def _time(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


class VersionsDialog(QDialog):
    restored = Signal(int)  # the version whose content the editor now holds

    def __init__(self, versions: WorkflowVersions, doc: WorkflowDocument,
                 scene: WorkflowScene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Versions of '{doc.name}'")
        self.versions, self.doc = versions, doc
        self.overlay = DiffOverlay(scene)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Version", "Saved", "Nodes", "Note"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.changes = QPlainTextEdit(self, readOnly=True)
        self.changes.setPlaceholderText("Pick a version to see what changed since it")
        self.restore_button = QPushButton("Restore this version", self)
        self.restore_button.setEnabled(False)
        self.restore_button.setToolTip("Put this version's content in the editor (one undo "
                                       "step); Publish makes it live")
        self.restore_button.clicked.connect(self.restore)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.restore_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.changes, 1)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._picked)
        self.finished.connect(lambda _r: self.overlay.clear())
        self.resize(620, 460)
        self.reload()

    def reload(self) -> None:
        items = self.versions.list(self.doc.name)
        self.table.setRowCount(len(items))
        for row, info in enumerate(reversed(items)):  # newest first
            live = " (live)" if info.published else ""
            cells = [f"{info.version}{live}", _time(info.created_at), str(info.nodes),
                     info.note or ""]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, info.version)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()

    def picked_version(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def pick(self, version: int) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == version:
                self.table.selectRow(row)
                return
        raise KeyError(version)

    def _picked(self) -> None:
        version = self.picked_version()
        self.restore_button.setEnabled(version is not None)
        if version is None:
            self.overlay.clear()
            self.changes.clear()
            return
        old, diff = self.versions.diff(self.doc, version)
        lines = diff.lines()
        self.changes.setPlainText(
            "\n".join(lines) if lines else f"The draft is the same as version {version}.")
        self.overlay.show(old, diff, version)

    def restore(self) -> None:
        version = self.picked_version()
        if version is None:
            return
        self.overlay.clear()
        self.doc.undo_stack.push(self.versions.restore_command(self.doc, version))
        self.restored.emit(version)
        self._picked()
