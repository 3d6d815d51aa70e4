"""The run panel: the live event log, the selected step's input/output/error as JSON trees,
the workflow's run history, and the problems list."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.teststep import StepTrial
from flowdesk.model.errors import Problem
from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot, StepRunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.ui.panels.editors import JsonTree
from flowdesk.ui.theme import STATUS_COLORS

RUN_COLORS = {RunStatus.COMPLETED: "#16a34a", RunStatus.FAILED: "#dc2626",
              RunStatus.RUNNING: "#2563eb", RunStatus.PAUSED: "#d97706",
              RunStatus.CANCELLED: "#6b7280", RunStatus.PENDING: "#94a3b8"}

__all__ = ["EventLog", "HistoryTable", "ProblemsList", "StepDetails", "describe_attempts",
           "run_durations"]

MAX_LOG_ROWS = 5000


def _fmt_time(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%H:%M:%S", time.localtime(ts))


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class EventLog(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["#", "time", "event", "step", "detail"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((50, 70, 130, 120)):
            self.setColumnWidth(col, width)
        self.run_id: str | None = None
        self._last_seq = 0  # events of the shown run up to this one are listed

    def show_run(self, run_id: str | None, events: list[RunEvent]) -> None:
        self.run_id = run_id
        self._last_seq = 0
        self.clear()
        self.append(events)

    def append(self, events: list[RunEvent]) -> None:
        rows = []
        for e in events:
            if e.run_id != self.run_id or e.seq <= self._last_seq:
                continue  # another run's, or listed already
            self._last_seq = e.seq
            detail = {k: v for k, v in e.payload.items() if k not in ("output", "input")}
            text = json.dumps(detail, ensure_ascii=False, default=str) if detail else ""
            item = QTreeWidgetItem([str(e.seq), _fmt_time(e.ts), e.type.value,
                                    e.step_id or "", text[:300]])
            item.setToolTip(4, text[:3000])
            rows.append(item)
        if not rows:
            return
        self.addTopLevelItems(rows)
        overflow = self.topLevelItemCount() - MAX_LOG_ROWS
        for _ in range(max(overflow, 0)):
            self.takeTopLevelItem(0)
        self.scrollToBottom()


class StepDetails(QWidget):
    """The selected step of the shown run (or the result of testing it): status line,
    input, output, error. *Pin this output* (shown when there is an output) asks for the
    output shown to be pinned: ``pin_requested(step_id, output)``."""

    pin_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Select a step on the canvas to see its input and output.")
        self.title.setWordWrap(True)
        self.pin_output = QPushButton("Pin this output")
        self.pin_output.setToolTip("Pin this output: Test step then uses it instead of "
                                   "the step's last run (saved with the draft)")
        self.pin_output.setVisible(False)
        self.pin_output.clicked.connect(self._pin_clicked)
        self._shown: tuple[str, Any] | None = None  # the step and output that may be pinned
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.input = JsonTree()
        self.output = JsonTree()
        copy_in = QPushButton("Copy input")
        copy_out = QPushButton("Copy output")
        copy_in.clicked.connect(self.input.copy_selected)
        copy_out.clicked.connect(self.output.copy_selected)
        split = QSplitter()
        for label, tree, button in (("Input", self.input, copy_in),
                                    ("Output", self.output, copy_out)):
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            row = QHBoxLayout()
            heading = QLabel(label)
            heading.setProperty("role", "heading")
            row.addWidget(heading)
            row.addStretch(1)
            row.addWidget(button)
            col.addLayout(row)
            col.addWidget(tree)
            split.addWidget(box)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.pin_output)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(split, 1)

    def _offer_pin(self, step_id: str | None, output: Any, offered: bool) -> None:
        self._shown = (step_id, output) if offered and step_id is not None else None
        self.pin_output.setVisible(self._shown is not None)

    def _pin_clicked(self) -> None:
        if self._shown is not None:
            self.pin_requested.emit(*self._shown)

    def show_trial(self, step_id: str, trial: StepTrial) -> None:
        """The result of testing one step (no run was recorded)."""
        color = STATUS_COLORS.get(trial.status, "#888")
        parts = [f"<b>{step_id}</b>",
                 f"<span style='color:{color}'>{trial.status.value}</span>",
                 "tested alone (no run recorded)", _fmt_duration(trial.duration_ms / 1000)]
        if trial.attempts > 1:
            parts.append(f"{trial.attempts} attempts")
        if trial.branch:
            parts.append(f"→ {trial.branch}")
        upstream = ", ".join(f"{s} ({u.describe()})" for s, u in trial.upstream.items())
        self.title.setText(" · ".join(parts) + (f"<br>upstream: {upstream}" if upstream
                                                 else ""))
        self.error.setText(trial.error or "")
        self.input.set_value(trial.input)
        self.output.set_value(trial.output)
        self._offer_pin(step_id, trial.output, trial.ok)

    def show_test_problem(self, step_id: str, message: str) -> None:
        """Testing the step could not start (e.g. an upstream step has no data)."""
        self.title.setText(f"<b>{step_id}</b> · could not be tested")
        self.error.setText(message)
        self.input.set_value(None)
        self.output.set_value(None)
        self._offer_pin(None, None, False)

    def show_streaming(self, step_id: str, text: str) -> None:
        """A running step that streams (an LLM answer): show the text so far."""
        self.title.setText(f"<b>{step_id}</b> · running · {len(text)} characters so far")
        self.error.clear()
        self._offer_pin(None, None, False)
        self.output.set_value({"text": text})

    def show_step(self, step_id: str | None, step: StepRunSnapshot | None) -> None:
        self._offer_pin(step_id, step.output if step is not None else None,
                        step is not None and step.output is not None
                        and step.status is StepStatus.COMPLETED)
        if step_id is None:
            self.title.setText("Select a step on the canvas to see its input and output.")
            self.input.set_value(None)
            self.output.set_value(None)
            self.error.clear()
            return
        if step is None:
            self.title.setText(f"<b>{step_id}</b> — not run yet")
            self.input.set_value(None)
            self.output.set_value(None)
            self.error.clear()
            return
        color = STATUS_COLORS.get(step.status, "#888")
        count, errors = describe_attempts(step)
        parts = [f"<b>{step_id}</b>", f"<span style='color:{color}'>{step.status.value}</span>",
                 count]
        if step.duration_ms is not None:
            parts.append(_fmt_duration(step.duration_ms / 1000))
        if step.branch:
            parts.append(f"→ {step.branch}")
        self.title.setText(" · ".join(parts))
        self.error.setText(step.error or "" if not errors else "\n".join(errors))
        self.input.set_value(step.state.get("input"))
        self.output.set_value(step.output)


def run_durations(run: RunSnapshot) -> str:
    """How long a run was active, and apart from it how long it waited (paused for a
    decision, or idle until a retry)."""
    if run.active_seconds is not None:
        text = _fmt_duration(run.active_seconds)
        waited = run.waiting_seconds
        return text + (f" · waited {_fmt_duration(waited)}" if waited and waited >= 0.001
                       else "")
    if run.finished_at and run.started_at:
        return _fmt_duration(run.finished_at - run.started_at)
    return _fmt_duration(None)


def describe_attempts(step: StepRunSnapshot) -> tuple[str, list[str]]:
    """The Step tab's attempt count and one line per failed try. Tries of every attempt of
    the run are counted (a retried run's step has tries from before the retry too), and
    each line names its run attempt when there were several."""
    records = []
    run_no, previous = 1, 0
    for a in step.attempt_log:
        if a.run_attempt is not None:
            run_no = a.run_attempt
        elif a.attempt <= previous:  # written before run attempts were recorded
            run_no += 1
        previous = a.attempt
        records.append((run_no, a))
    total = len(records) or step.attempts
    runs = sorted({r for r, _ in records})
    text = f"{total} attempt{'s' if total != 1 else ''}"
    if len(runs) > 1:
        last = sum(1 for r, _ in records if r == runs[-1])
        text += f" ({last} in the latest retry)"
    lines = [(f"run attempt {r}, try {a.attempt}: " if len(runs) > 1 else
              f"attempt {a.attempt}: ") + str(a.error) for r, a in records if a.error]
    return text, lines


class HistoryTable(QTableWidget):
    run_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(["run", "status", "started", "duration", "error"])
        self.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.cellDoubleClicked.connect(self._opened)

    def _run_id(self, row: int) -> str | None:
        item = self.item(row, 0)
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        return data if isinstance(data, str) else None

    def _opened(self, row: int, _column: int) -> None:
        run_id = self._run_id(row)
        if run_id is not None:
            self.run_opened.emit(run_id)

    def has_run(self, run_id: str) -> bool:
        return any(self._run_id(row) == run_id for row in range(self.rowCount()))

    def run_ids(self) -> list[str]:
        """The listed runs, as listed (newest first)."""
        return [r for r in (self._run_id(row) for row in range(self.rowCount())) if r]

    def set_runs(self, runs: list[RunSnapshot]) -> None:
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            cells = [run.id[:8], run.status.value,
                     time.strftime("%Y-%m-%d %H:%M:%S",
                                   time.localtime(run.started_at or run.created_at)),
                     run_durations(run), run.error or ""]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, run.id)
                if col == 1:
                    item.setForeground(QColor(RUN_COLORS.get(run.status, "#888888")))
                self.setItem(row, col, item)


class ProblemsList(QListWidget):
    problem_activated = Signal(str)  # node id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.itemActivated.connect(self._activated)
        self.itemDoubleClicked.connect(self._activated)

    def set_problems(self, problems: list[Problem]) -> None:
        self.clear()
        for p in problems:
            item = QListWidgetItem(f"⚠ {p}")
            item.setData(Qt.ItemDataRole.UserRole, p.node_id)
            self.addItem(item)
        if not problems:
            item = QListWidgetItem("No problems: the workflow is valid.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id:
            self.problem_activated.emit(node_id)
