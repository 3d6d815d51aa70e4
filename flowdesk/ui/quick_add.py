"""Quick-add (Tab / Ctrl+K): a small popup over the canvas; type to find a step type, Up/Down
to move, Enter adds the highlighted one, Escape closes.

It is a ``Qt.Popup``, and on a real X server a popup does not get the keyboard by itself:
``showEvent`` activates it and focuses the search field, and keys that still land on the
popup (or its list) are forwarded to the field, so nothing typed is lost.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.registry import CatalogEntry
from flowdesk.ui.theme import step_icon

__all__ = ["QuickAddDialog", "rank_entries"]

_TYPE_ROLE = Qt.ItemDataRole.UserRole
_NAVIGATION = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}


def rank_entries(entries: list[CatalogEntry], text: str) -> list[CatalogEntry]:
    """The entries matching ``text``, best first: label starts with it, a word of the label
    starts with it, the label or type contains it, then the description mentions it."""
    needle = text.strip().lower()
    if not needle:
        return list(entries)
    ranked: list[tuple[int, int, CatalogEntry]] = []
    for i, entry in enumerate(entries):
        label = entry.label.lower()
        if label.startswith(needle):
            rank = 0
        elif any(word.startswith(needle) for word in label.split()):
            rank = 1
        elif needle in label or needle in entry.type.lower():
            rank = 2
        elif needle in entry.description.lower() or needle in entry.category.lower():
            rank = 3
        else:
            continue
        ranked.append((rank, i, entry))
    return [entry for _rank, _i, entry in sorted(ranked, key=lambda r: (r[0], r[1]))]


class QuickAddDialog(QDialog):
    chosen = Signal(str)  # the step type picked

    def __init__(self, catalog: list[CatalogEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.entries = [entry for entry in catalog if entry.category != "Test"]
        self.search = QLineEdit(placeholderText="Add a step…  (type to search, Enter adds)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing always goes to the field
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._choose)
        self.list.itemActivated.connect(lambda _i: self._choose())
        self.list.itemClicked.connect(lambda _i: self._choose())
        self.search.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(520, 340)
        self._chosen = False
        self._filter("")

    # -- keyboard ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._take_keyboard()
        QTimer.singleShot(0, self._take_keyboard)  # again once the window manager mapped it

    def _take_keyboard(self) -> None:
        if self.isVisible():
            self.activateWindow()
            self.raise_()
            self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in _NAVIGATION:
                self._move(event.key())
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keys that reached the popup instead of the field: navigation moves the list,
        Enter chooses, Escape closes, anything else is typed into the field."""
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.reject()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._choose()
        elif key in _NAVIGATION:
            self._move(key)
        elif (event.text() and event.text().isprintable()) or key == Qt.Key.Key_Backspace:
            self.search.setFocus(Qt.FocusReason.OtherFocusReason)
            self.search.event(event)
        else:
            super().keyPressEvent(event)

    def _move(self, key: int) -> None:
        visible = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not visible:
            return
        current = self.list.currentRow()
        at = visible.index(current) if current in visible else 0
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -5,
                Qt.Key.Key_PageDown: 5}[Qt.Key(key)]
        self.list.setCurrentRow(visible[max(0, min(len(visible) - 1, at + step))])

    # -- content -----------------------------------------------------------------------------
    def _filter(self, text: str) -> None:
        self.list.clear()
        for entry in rank_entries(self.entries, text):
            item = QListWidgetItem(step_icon(entry.icon, entry.category),
                                   f"{entry.label}  —  {entry.description}")
            item.setData(_TYPE_ROLE, entry.type)
            item.setToolTip(f"{entry.label} ({entry.type})\n{entry.description}")
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def visible_types(self) -> list[str]:
        return [self.list.item(i).data(_TYPE_ROLE) for i in range(self.list.count())]

    def _choose(self) -> None:
        # Enter reaches both the field (returnPressed) and, ignored by it, the popup itself:
        # one step is added per popup, however the choice came
        item = self.list.currentItem()
        if item is not None and not self._chosen:
            self._chosen = True
            self.chosen.emit(item.data(_TYPE_ROLE))
            self.accept()
