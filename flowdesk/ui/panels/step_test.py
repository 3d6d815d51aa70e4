"""The inspector's "Test step" bar and the dialog that edits a pinned output as JSON.

``StepTestBar`` shows, for the selected step: *Test step* (runs only this step, on pinned or
last-run upstream outputs), *Pin output…* (edit the pin as JSON) and, when the step is
pinned, a note saying so with *Unpin*. It only emits intents (``test_clicked``,
``pin_clicked``, ``unpin_clicked``); the window's step-testing part acts on them.
``PinDialog`` asks for a JSON value and refuses text that is not JSON, saying where.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.model.jsontext import JsonTextError, parse_json
from flowdesk.ui.panels.editors import CodeEditor

__all__ = ["PinDialog", "StepTestBar"]


class StepTestBar(QWidget):
    test_clicked = Signal(str)
    pin_clicked = Signal(str)
    unpin_clicked = Signal(str)

    def __init__(self, node_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self.test_button = QPushButton("Test step")
        self.test_button.setProperty("role", "primary")
        self.test_button.setMinimumWidth(
            self.test_button.fontMetrics().horizontalAdvance("Testing…") + 32)
        self.test_button.setObjectName("test_step")
        self.test_button.setToolTip(
            "Run only this step (Ctrl+Shift+T), on its upstream steps' pinned outputs or "
            "else their outputs in the last run; the result shows in the Step tab and no "
            "run is recorded")
        self.pin_button = QPushButton("Pin output…")
        self.pin_button.setToolTip("Edit this step's pinned output as JSON: Test step on "
                                   "the steps after it uses it instead of running it")
        self.pin_note = QLabel()
        self.pin_note.setProperty("role", "hint")
        self.pin_note.setWordWrap(True)
        self.unpin_button = QPushButton("Unpin")
        self.test_button.clicked.connect(lambda: self.test_clicked.emit(self.node_id))
        self.pin_button.clicked.connect(lambda: self.pin_clicked.emit(self.node_id))
        self.unpin_button.clicked.connect(lambda: self.unpin_clicked.emit(self.node_id))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.pin_button)
        row.addStretch(1)
        layout.addLayout(row)
        pinned = QHBoxLayout()
        pinned.addWidget(self.pin_note, 1)
        pinned.addWidget(self.unpin_button)
        layout.addLayout(pinned)
        self.set_pinned(False)

    def set_pinned(self, pinned: bool) -> None:
        self.pin_note.setText("Output pinned: used when the steps after it are tested"
                              if pinned else "")
        self.pin_note.setVisible(pinned)
        self.unpin_button.setVisible(pinned)
        self.pin_button.setText("Edit pin…" if pinned else "Pin output…")

    def set_testing(self, testing: bool) -> None:
        self.test_button.setEnabled(not testing)
        self.test_button.setText("Testing…" if testing else "Test step")


class PinDialog(QDialog):
    """Edit a step's pinned output as JSON; ``value`` holds it once accepted."""

    def __init__(self, node_id: str, initial: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Pin the output of {node_id}")
        self.value: Any = None
        hint = QLabel(f"The output <b>{node_id}</b> gives the steps after it when they are "
                      "tested alone (any JSON). Saved with the draft; not published or "
                      "exported.")
        hint.setWordWrap(True)
        self.editor = CodeEditor("json")
        self.editor.setPlainText(json.dumps(initial, indent=2, ensure_ascii=False))
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(520, 420)

    def accept(self) -> None:
        try:
            self.value = parse_json(self.editor.toPlainText())
        except JsonTextError as exc:
            self.error.setText(f"Not valid JSON: {exc}")
            return
        super().accept()
