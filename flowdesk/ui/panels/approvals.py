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
    QStackedWidget,
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
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)

        # what the detail pane shows: nothing waiting / an approval / a wait for an event
        self.empty = QLabel("Nothing is waiting.\n\nRuns that wait for an approval or an "
                            "event appear here.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "hint")

        self.title = QLabel()
        self.title.setProperty("role", "heading")
        self.title.setWordWrap(True)
        self.instructions = QLabel()
        self.instructions.setWordWrap(True)
        self.data = JsonTree()
        self.comment = QLineEdit(placeholderText="Comment (optional)")
        self.extra = QPlainTextEdit(placeholderText='Data for the step output, JSON (optional)')
        self.extra.setMaximumHeight(60)
        self.approve = QPushButton("Approve")
        self.approve.setProperty("role", "primary")
        self.reject = QPushButton("Reject")
        self.approve.clicked.connect(lambda: self._decide(True))
        self.reject.clicked.connect(lambda: self._decide(False))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reject)
        buttons.addWidget(self.approve)
        approval = QWidget()
        col = QVBoxLayout(approval)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.title)
        col.addWidget(self.instructions)
        col.addWidget(self.data, 1)
        col.addWidget(self.comment)
        col.addWidget(self.extra)
        col.addLayout(buttons)

        self.event_title = QLabel()
        self.event_title.setProperty("role", "heading")
        self.event_title.setWordWrap(True)
        self.event_info = QLabel()
        self.event_info.setWordWrap(True)
        self.wait_data = QLineEdit(placeholderText='Event data, JSON (optional), e.g. '
                                                   '{"amount": 10}')
        self.send_wait = QPushButton("Send this event")
        self.send_wait.setProperty("role", "primary")
        self.send_wait.clicked.connect(self._send_awaited)
        event_row = QHBoxLayout()
        event_row.addStretch(1)
        event_row.addWidget(self.send_wait)
        event_page = QWidget()
        ecol = QVBoxLayout(event_page)
        ecol.setContentsMargins(0, 0, 0, 0)
        ecol.addWidget(self.event_title)
        ecol.addWidget(self.event_info)
        ecol.addWidget(self.wait_data)
        ecol.addLayout(event_row)
        ecol.addStretch(1)

        self.pages = QStackedWidget()
        for page in (self.empty, approval, event_page):
            self.pages.addWidget(page)
        detail = QWidget()
        dcol = QVBoxLayout(detail)
        dcol.addWidget(self.pages, 1)
        dcol.addWidget(self.error)

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
        self._selected(None, None)

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
        self._selected(self.list.currentItem(), None)

    def current(self) -> dict[str, Any] | None:
        item = self.list.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return data if isinstance(data, dict) else None

    def focus_first(self) -> None:
        """Select the first waiting item and put the cursor where the person types next."""
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        target = {"approval": self.comment, "event": self.wait_data}.get(self.shown())
        (target or self.list).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def shown(self) -> str:
        """Which detail page is shown: "empty", "approval" or "event"."""
        return ("empty", "approval", "event")[self.pages.currentIndex()]

    def _selected(self, item: QListWidgetItem | None, _prev: object) -> None:
        self.error.clear()
        w = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if w is None:
            self.pages.setCurrentIndex(0)
            self.data.set_value(None)
            return
        where = f"{w['workflow']} · step {w['step_id']} · run {w['run_id'][:8]}"
        if w.get("kind") == "approval":
            self.title.setText(w.get("title") or "Approval")
            self.instructions.setText("\n".join(
                t for t in (w.get("instructions") or "", where) if t))
            self.data.set_value(w.get("data"))
            self.data.setVisible(w.get("data") is not None)
            self.pages.setCurrentIndex(1)
        else:
            self.event_title.setText(f"Waiting for the event '{w.get('event_name')}'")
            key = w.get("correlation_key")
            self.event_info.setText(f"{where}\nCorrelation key: {key}" if key else
                                    f"{where}\nAny event of that name wakes it.")
            self.pages.setCurrentIndex(2)

    def _decide(self, approved: bool) -> None:
        w = self.current()
        if w is None:
            return
        ok, data = self._json(self.extra.toPlainText(), "Data")
        if not ok:
            return
        self.decision_made.emit(w["run_id"], w["step_id"], approved, self.comment.text(), data)
        self.comment.clear()
        self.extra.clear()

    def _json(self, text: str, what: str) -> tuple[bool, Any]:
        """(True, value) for empty (None) or valid JSON; else (False, None), said in red."""
        if not text.strip():
            return True, None
        try:
            return True, json.loads(text)
        except json.JSONDecodeError as exc:
            self.error.setText(f"{what} is not valid JSON: {exc.msg}")
            return False, None

    def _send_awaited(self) -> None:
        w = self.current()
        if w is None or w.get("kind") == "approval":
            return
        ok, data = self._json(self.wait_data.text(), "Event data")
        if not ok:
            return
        self.error.clear()
        self.event_sent.emit(w.get("event_name"), w.get("correlation_key"), data)
        self.wait_data.clear()

    def _send(self) -> None:
        name = self.event_name.text().strip()
        if not name:
            self.error.setText("An event needs a name.")
            return
        ok, data = self._json(self.event_data.text(), "Event data")
        if not ok:
            return
        self.error.clear()
        self.event_sent.emit(name, self.event_key.text().strip() or None, data)
