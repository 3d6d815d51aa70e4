"""Dialogs: the run input (a form from the workflow's input_schema, or JSON), the workflow
library and the first-start welcome (quick-add is in quick_add.py)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.inputs import check_input
from flowdesk.model.run import WorkflowInfo
from flowdesk.ui.panels.editors import CodeEditor

__all__ = ["LibraryDialog", "RunInputDialog", "WelcomeDialog"]


class RunInputDialog(QDialog):
    """Asks for the run input: one field per property of ``input_schema``, or raw JSON."""

    def __init__(self, schema: dict[str, Any], initial: Any,
                 parent: QWidget | None = None, up_to: str | None = None) -> None:
        super().__init__(parent)
        # up_to: "Run to here", the step and its upstream steps only
        self.setWindowTitle("Run workflow" if up_to is None else f"Run to '{up_to}'")
        self.schema = schema or {"type": "object"}
        self.props: dict[str, dict[str, Any]] = {
            k: v for k, v in (self.schema.get("properties") or {}).items()
            if isinstance(v, dict)}
        initial = initial if isinstance(initial, dict) else {}
        self.tabs = QTabWidget()
        form_page = QWidget()
        form = QFormLayout(form_page)
        self.fields: dict[str, QWidget] = {}
        required = set(self.schema.get("required", []))
        for name, prop in self.props.items():
            kind = prop.get("type", "string")
            value = initial.get(name)
            if kind == "boolean":
                box = QCheckBox()
                box.setChecked(bool(value))
                widget: QWidget = box
            else:
                widget = QLineEdit()
                if value is not None:
                    widget.setText(value if isinstance(value, str) else json.dumps(value))
                widget.setPlaceholderText(kind)
            self.fields[name] = widget
            form.addRow(f"{name}{' *' if name in required else ''}", widget)
        if not self.props:
            hint = QLabel("This workflow declares no input fields; use the JSON tab.")
            hint.setProperty("role", "hint")
            form.addRow(hint)
        self.json = CodeEditor("json")
        self.json.setPlainText(json.dumps(initial, indent=2, ensure_ascii=False))
        self.tabs.addTab(form_page, "Form")
        self.tabs.addTab(self.json, "JSON")
        if not self.props:
            self.tabs.setCurrentIndex(1)
        self.tabs.currentChanged.connect(self._sync)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = buttons.addButton("Run" if up_to is None else "Run to here",
                                            QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setProperty("role", "primary")
        self.run_button.setDefault(True)  # Enter in any field runs
        # in the JSON editor Enter is a new line: Ctrl+Enter runs there (and everywhere)
        self.json.installEventFilter(self)
        self.run_button.setToolTip("Run (Enter, or Ctrl+Enter in the JSON editor)")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(460, 360)
        self.value: Any = None
        # the first field has the keyboard; with no fields, the Run button does, so Enter
        # runs at once (the JSON editor is a click or Tab away)
        first: QWidget = next(iter(self.fields.values())) if self.props else self.run_button
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _form_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, widget in self.fields.items():
            kind = self.props[name].get("type", "string")
            if isinstance(widget, QCheckBox):
                out[name] = widget.isChecked()
                continue
            assert isinstance(widget, QLineEdit)
            text = widget.text()
            if text == "":
                continue
            if kind == "string":
                out[name] = text
            else:
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError:
                    out[name] = text  # reported by check_input with the expected type
        return out

    def _sync(self, index: int) -> None:
        if index == 1:
            try:
                current = json.loads(self.json.toPlainText() or "{}")
            except json.JSONDecodeError:
                current = {}
            if not isinstance(current, dict):
                current = {}
            current.update(self._form_value())
            self.json.setPlainText(json.dumps(current, indent=2, ensure_ascii=False))

    def current_value(self) -> Any:
        if self.tabs.currentIndex() == 0 and self.props:
            return self._form_value()
        return json.loads(self.json.toPlainText() or "{}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.json and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self._accept()
            return True
        return super().eventFilter(watched, event)

    def _accept(self) -> None:
        try:
            value = self.current_value()
        except json.JSONDecodeError as exc:
            self.error.setText(f"Not valid JSON: {exc.msg} at line {exc.lineno}")
            return
        problems = check_input(self.schema, value)
        if problems:
            self.error.setText("\n".join(problems))
            return
        self.value = value
        self.accept()


class LibraryDialog(QDialog):
    """Open, create, rename, duplicate, delete, import and export stored workflows.

    Every button acts on the highlighted row, and only when it is visible: typing in Filter
    moves the highlight to the first match (or clears it), Enter opens the highlighted row,
    and Delete asks before it deletes. With nothing highlighted a button says so and does
    nothing."""

    open_requested = Signal(str)
    new_requested = Signal()
    rename_requested = Signal(str)
    duplicate_requested = Signal(str)
    delete_requested = Signal(str)
    import_requested = Signal()
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Workflows")
        self.search = QLineEdit(placeholderText="Filter…")
        self.search.installEventFilter(self)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _i: self._emit(self.open_requested))
        self.search.textChanged.connect(self._filter)
        self.hint = QLabel()
        self.list.currentItemChanged.connect(lambda *_: self.hint.setText(""))
        self.hint.setProperty("role", "hint")
        self.confirm: QMessageBox | None = None
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, handler in (("New", self.new_requested.emit),
                              ("Import…", self.import_requested.emit),
                              ("Rename…", lambda: self._emit(self.rename_requested)),
                              ("Duplicate", lambda: self._emit(self.duplicate_requested)),
                              ("Export…", lambda: self._emit(self.export_requested)),
                              ("Delete", self.ask_delete)):
            button = QPushButton(text)
            button.setAutoDefault(False)  # Enter opens; it never creates or deletes
            button.clicked.connect(handler)
            buttons.addWidget(button)
            self.buttons[text] = button
        open_button = QPushButton("Open")
        open_button.setProperty("role", "primary")
        open_button.setDefault(True)
        open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.buttons["Open"] = open_button
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.ask_delete)
        buttons.addStretch(1)
        buttons.addWidget(open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.resize(720, 420)

    def set_workflows(self, items: list[WorkflowInfo], highlight: str | None = None) -> None:
        """Show ``items``; keep the highlight on ``highlight`` (or on the row highlighted
        before) when it is still listed and visible."""
        listed = {info.name for info in items}
        keep = highlight if highlight in listed else self.selected_name()
        self.list.clear()
        for info in items:
            item = QListWidgetItem(f"{info.name}   ·   v{info.version}"
                                   + (f"   ·   {info.description}" if info.description else ""))
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            self.list.addItem(item)
            if info.name == keep:
                self.list.setCurrentItem(item)
        self._filter(self.search.text())

    def selected_name(self) -> str | None:
        """The highlighted workflow, if its row is visible (never one hidden by Filter)."""
        for item in self.list.selectedItems():
            if not item.isHidden():
                return str(item.data(Qt.ItemDataRole.UserRole))
        return None

    def _emit(self, signal: Any) -> None:
        name = self.selected_name()
        if name is None:
            self.hint.setText("Select a workflow in the list first" if self.list.count()
                              else "There are no workflows yet: New or Import… makes one")
            return
        self.hint.setText("")
        signal.emit(name)

    def ask_delete(self) -> None:
        """Ask before deleting the highlighted workflow; Delete is the safe default only
        after the user reads the name."""
        name = self.selected_name()
        if name is None:
            self._emit(self.delete_requested)  # says that nothing is highlighted
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete workflow",
                          f"Delete the workflow '{name}' and its run history?\n"
                          "This cannot be undone.",
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished() -> None:
            if box.clickedButton() is delete:
                self.hint.setText("")
                self.delete_requested.emit(name)
            self.confirm = None

        box.finished.connect(lambda _result: finished())
        self.confirm = box
        box.open()

    def _filter(self, text: str) -> None:
        needle = text.lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(needle not in item.text().lower())
        if self.selected_name() is None:
            visible = [self.list.item(i) for i in range(self.list.count())
                       if not self.list.item(i).isHidden()]
            if visible:
                self.list.setCurrentItem(visible[0])
            else:
                self.list.clearSelection()
                self.list.setCurrentRow(-1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in Filter move the highlight over the visible rows."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
                if rows:
                    current = self.list.currentRow()
                    step = 1 if event.key() == Qt.Key.Key_Down else -1
                    position = rows.index(current) + step if current in rows else 0
                    self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, position))])
                return True
        return super().eventFilter(watched, event)


class WelcomeDialog(QDialog):
    """First start: offer the example workflows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to flowdesk")
        text = QLabel(
            "<h3>Welcome to flowdesk</h3>"
            "<p>Build workflows by dragging steps from the palette onto the canvas and "
            "connecting an output port to an input port. Press <b>Run</b> and watch each "
            "step's badge change as it runs.</p>"
            "<p>Add the example workflows to see what flowdesk can do?</p>")
        text.setWordWrap(True)
        self.examples = QPushButton("Add the examples")
        self.examples.setProperty("role", "primary")
        self.empty = QPushButton("Start with an empty workflow")
        self.examples.clicked.connect(self.accept)
        self.empty.clicked.connect(self.reject)
        self.examples.setDefault(True)  # Enter adds the examples; Esc starts empty
        self.empty.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.empty)
        buttons.addWidget(self.examples)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.resize(460, 220)
