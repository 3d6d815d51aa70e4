"""The approvals inbox: every waiting approval across runs and workflows, with its title,
instructions and data; Approve / Reject with a comment and optional JSON. Steps waiting for
events are listed too, with a form to send an event."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flowdesk.ui.panels.editors import JsonTree

__all__ = ["ApprovalsInbox"]


class ApprovalsInbox(QWidget):
    decision_made = Signal(str, str, bool, str, object)  # run, step, approved, comment, data
    event_sent = Signal(str, object, object)  # name, key, data
    run_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._selected)
        self.list.itemDoubleClicked.connect(
            lambda item: self.run_opened.emit(item.data(Qt.ItemDataRole.UserRole)["run_id"]))
        self.title = QLabel("Nothing is waiting.")
        self.title.setProperty("role", "heading")
        self.title.setWordWrap(True)
        self.instructions = QLabel()
        self.instructions.setWordWrap(True)
        self.data = JsonTree()
        self.comment = QLineEdit(placeholderText="Comment (optional)")
        self.extra = QPlainTextEdit(placeholderText='Data for the step output, JSON (optional)')
        self.extra.setMaximumHeight(60)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.approve = QPushButton("Approve")
        self.approve.setProperty("role", "primary")
        self.reject = QPushButton("Reject")
        self.approve.clicked.connect(lambda: self._decide(True))
        self.reject.clicked.connect(lambda: self._decide(False))
        buttons = QHBoxLayout()
        buttons.addWidget(self.reject)
        buttons.addWidget(self.approve)
        detail = QWidget()
        col = QVBoxLayout(detail)
        col.addWidget(self.title)
        col.addWidget(self.instructions)
        col.addWidget(self.data, 1)
        col.addWidget(self.comment)
        col.addWidget(self.extra)
        col.addWidget(self.error)
        col.addLayout(buttons)

        events = QGroupBox("Send an event")
        form = QFormLayout(events)
        self.event_name = QLineEdit(placeholderText="e.g. payment.received")
        self.event_key = QLineEdit(placeholderText="correlation key (optional)")
        self.event_data = QLineEdit(placeholderText='{"amount": 10}')
        send = QPushButton("Send")
        send.clicked.connect(self._send)
        form.addRow("Name", self.event_name)
        form.addRow("Key", self.event_key)
        form.addRow("Data", self.event_data)
        form.addRow("", send)
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(self.list, 1)
        lcol.addWidget(events)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(detail)
        split.setSizes([320, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._set_enabled(False)

    def set_waiting(self, waiting: list[dict[str, Any]]) -> None:
        current = self.current()
        self.list.clear()
        for w in waiting:
            since = time.strftime("%m-%d %H:%M", time.localtime(w.get("since") or 0))
            if w.get("kind") == "approval":
                text = f"Approval: {w.get('title') or 'Approval'}\n{w['workflow']} · " \
                       f"{w['step_id']} · since {since}"
            else:
                key = f" [{w['correlation_key']}]" if w.get("correlation_key") else ""
                text = f"Event: {w.get('event_name')}{key}\n{w['workflow']} · " \
                       f"{w['step_id']} · since {since}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, w)
            self.list.addItem(item)
            if current is not None and (w["run_id"], w["step_id"]) == \
                    (current["run_id"], current["step_id"]):
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        if not waiting:
            self._selected(None, None)

    def current(self) -> dict[str, Any] | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _set_enabled(self, approval: bool) -> None:
        for widget in (self.approve, self.reject, self.comment, self.extra):
            widget.setEnabled(approval)

    def _selected(self, item: QListWidgetItem | None, _prev: object) -> None:
        self.error.clear()
        w = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if w is None:
            self.title.setText("Nothing is waiting.")
            self.instructions.clear()
            self.data.set_value(None)
            self._set_enabled(False)
            return
        if w.get("kind") == "approval":
            self.title.setText(w.get("title") or "Approval")
            self.instructions.setText(w.get("instructions") or "")
            self.data.set_value(w.get("data"))
            self._set_enabled(True)
        else:
            self.title.setText(f"Waiting for event '{w.get('event_name')}'")
            self.instructions.setText(f"Key: {w.get('correlation_key') or '(any)'}")
            self.data.set_value(None)
            self.event_name.setText(w.get("event_name") or "")
            self.event_key.setText(w.get("correlation_key") or "")
            self._set_enabled(False)

    def _decide(self, approved: bool) -> None:
        w = self.current()
        if w is None:
            return
        data = None
        text = self.extra.toPlainText().strip()
        if text:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                self.error.setText(f"Data is not valid JSON: {exc.msg}")
                return
        self.decision_made.emit(w["run_id"], w["step_id"], approved, self.comment.text(), data)
        self.comment.clear()
        self.extra.clear()

    def _send(self) -> None:
        name = self.event_name.text().strip()
        if not name:
            self.error.setText("An event needs a name.")
            return
        data = None
        if self.event_data.text().strip():
            try:
                data = json.loads(self.event_data.text())
            except json.JSONDecodeError as exc:
                self.error.setText(f"Event data is not valid JSON: {exc.msg}")
                return
        self.error.clear()
        self.event_sent.emit(name, self.event_key.text().strip() or None, data)
