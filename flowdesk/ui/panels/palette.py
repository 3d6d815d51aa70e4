"""The palette: step types by category, from the steps' catalog entries, with a search box.
Drag an entry onto the canvas, or double-click it to add it in the middle of the view."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.registry import CatalogEntry
from flowdesk.ui.mime import STEP_MIME, step_mime
from flowdesk.ui.theme import step_icon

__all__ = ["Palette"]

CATEGORY_ORDER = ["Triggers", "Data", "Logic", "Flow", "Code", "Integrations", "AI", "Human"]
_TYPE_ROLE = Qt.ItemDataRole.UserRole


class _Tree(QTreeWidget):
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        types = [str(i.data(0, _TYPE_ROLE)) for i in items if i.data(0, _TYPE_ROLE)]
        return step_mime(types[0]) if types else QMimeData()

    def mimeTypes(self) -> list[str]:
        return [STEP_MIME]


class Palette(QWidget):
    step_activated = Signal(str)

    def __init__(self, catalog: list[CatalogEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search steps…")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setIconSize(QSize(24, 24))
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.entries = [c for c in catalog if c.category != "Test"]
        groups: dict[str, QTreeWidgetItem] = {}
        order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
        for entry in sorted(self.entries, key=lambda c: (order.get(c.category, 99), c.label)):
            group = groups.get(entry.category)
            if group is None:
                group = QTreeWidgetItem(self.tree, [entry.category])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[entry.category] = group
            item = QTreeWidgetItem(group, [entry.label])
            item.setIcon(0, step_icon(entry.icon, entry.category))
            item.setData(0, _TYPE_ROLE, entry.type)
            item.setToolTip(0, f"{entry.label} ({entry.type})\n{entry.description}")
            item.setStatusTip(0, entry.description)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._activated)
        self.search.returnPressed.connect(self._activate_first)

    def filter(self, text: str) -> None:
        needle = text.strip().lower()
        word = re.compile(r"\b" + re.escape(needle)) if needle else None
        for group, entries in self._groups():
            shown = 0
            for item in entries:
                name = f"{item.text(0)} {item.data(0, _TYPE_ROLE)} {group.text(0)}".lower()
                visible = word is None or needle in name or bool(
                    word.search(item.statusTip(0).lower()))
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        return [str(item.data(0, _TYPE_ROLE)) for group, entries in self._groups()
                if not group.isHidden() for item in entries if not item.isHidden()]

    def _groups(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        """The category headings, each with its step entries, in the order shown."""
        groups = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:
                continue
            entries = [group.child(j) for j in range(group.childCount())]
            groups.append((group, [e for e in entries if e is not None]))
        return groups

    def _activated(self, item: QTreeWidgetItem) -> None:
        step_type = item.data(0, _TYPE_ROLE)
        if step_type:
            self.step_activated.emit(step_type)

    def _activate_first(self) -> None:
        types = self.visible_types()
        if types:
            self.step_activated.emit(types[0])
