"""The inspector: a form built from the selected step's pydantic config model, plus its
label, timeout, retry policy and continue-on-error. Every edit is an undo command on the
document; typing in one field merges into one command. Problems of the step are shown inline.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.document.commands import SetConfigValueCommand, SetNodeFieldCommand
from flowdesk.document.document import UNSET, WorkflowDocument
from flowdesk.engine.registry import StepType
from flowdesk.model.errors import UnknownStepType
from flowdesk.model.workflow import RetryPolicy
from flowdesk.ui.panels.editors import CodeEditor, TemplateLineEdit
from flowdesk.ui.theme import step_icon

__all__ = ["Inspector", "field_kind"]

_MULTILINE = {"instructions", "prompt", "system", "text", "html", "body"}
_MONO = {"expression", "jmespath"}


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
        return Any, True
    return annotation, False


def field_kind(name: str, field: FieldInfo) -> tuple[str, tuple[Any, ...]]:
    """How to edit a config field: python, sql, json, bool, number, choice, multiline, text."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("format") == "python" or name == "code":
        return "python", ()
    if extra.get("format") == "sql" or name == "query":
        return "sql", ()
    annotation, _ = _strip_optional(field.annotation)
    if get_origin(annotation) is Literal:
        return "choice", get_args(annotation)
    if annotation is bool:
        return "bool", ()
    if annotation in (int, float):
        return "number", (annotation,)
    if annotation is str:
        return ("multiline", ()) if name in _MULTILINE else ("text", ())
    return "json", ()


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class Inspector(QScrollArea):
    def __init__(self, push: Callable[[QUndoCommand], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.push = push
        self.doc: WorkflowDocument | None = None
        self.node_id: str | None = None
        self.setWidgetResizable(True)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._refreshing = False
        self._show_empty("Select a step to edit it.")

    def set_document(self, doc: WorkflowDocument | None) -> None:
        if self.doc is not None:
            for signal, slot in ((self.doc.node_changed, self._on_node_changed),
                                 (self.doc.problems_changed, self._on_problems),
                                 (self.doc.node_removed, self._on_node_removed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.doc = doc
        if doc is not None:
            doc.node_changed.connect(self._on_node_changed)
            doc.problems_changed.connect(self._on_problems)
            doc.node_removed.connect(self._on_node_removed)
        self.show_node(None)

    # -- building ----------------------------------------------------------------------------
    def _show_empty(self, text: str) -> None:
        self.fields, self.errors = {}, {}
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setProperty("role", "hint")
        self.setWidget(label)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        if self.doc is None or node_id is None or not self.doc.has_node(node_id):
            self.node_id = None
            self._show_empty("Select a step to edit it.\n\nDrag steps from the palette, "
                             "connect an output port to an input port, and press Run.")
            return
        node = self.doc.node(node_id)
        try:
            step_type: StepType | None = self.doc.registry.get(node.type)
        except (UnknownStepType, ImportError):
            step_type = None
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(10, 10, 10, 10)
        header = QHBoxLayout()
        if step_type is not None:
            icon = QLabel()
            icon.setPixmap(step_icon(step_type.catalog.icon, step_type.catalog.category)
                           .pixmap(32, 32))
            header.addWidget(icon)
        title = QLabel(f"<b>{step_type.catalog.label if step_type else node.type}</b><br>"
                       f"<span>{step_type.catalog.description if step_type else ''}</span>")
        title.setWordWrap(True)
        header.addWidget(title, 1)
        outer.addLayout(header)
        self.fields, self.errors = {}, {}

        general = QFormLayout()
        ident = QLabel(node.id)
        ident.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        general.addRow("Id", ident)
        label = QLineEdit(node.data.label)
        label.setPlaceholderText(node.id)
        label.textEdited.connect(lambda text: self._set_field("label", text))
        self.fields["@label"] = label
        general.addRow("Label", label)
        outer.addLayout(general)

        if step_type is not None:
            box = QGroupBox("Settings")
            form = QFormLayout(box)
            suggestions = self._suggestions(step_type)
            for name, field in step_type.config_model.model_fields.items():
                key = field.alias or name
                widget = self._make_field(key, field, node.data.config.get(key, UNSET),
                                          suggestions)
                self.fields[key] = widget
                error = QLabel()
                error.setProperty("role", "error")
                error.setWordWrap(True)
                error.hide()
                self.errors[key] = error
                holder = QWidget()
                col = QVBoxLayout(holder)
                col.setContentsMargins(0, 0, 0, 0)
                col.addWidget(widget)
                col.addWidget(error)
                if field.description:
                    widget.setToolTip(field.description)
                form.addRow(_label(key), holder)
            outer.addWidget(box)
        else:
            outer.addWidget(QLabel(f"Unknown step type '{node.type}'."))

        outer.addWidget(self._behaviour_box(node.data))
        self.problem_label = QLabel()
        self.problem_label.setProperty("role", "error")
        self.problem_label.setWordWrap(True)
        outer.addWidget(self.problem_label)
        outer.addStretch(1)
        self.setWidget(body)
        self._on_problems(self.doc.problems)

    def _suggestions(self, step_type: StepType) -> list[str]:
        assert self.doc is not None and self.node_id is not None
        out = ["input", "run.id"]
        props = (self.doc.workflow.input_schema or {}).get("properties") or {}
        out += [f"input.{p}" for p in props]
        for upstream in self.doc.upstream_of(self.node_id):
            out += [f"steps.{upstream}.output", f"steps.{upstream}.status"]
            try:
                entry = self.doc.registry.get(self.doc.node(upstream).type).catalog
                out += [f"steps.{upstream}.output.{f}" for f in entry.outputs]
            except (UnknownStepType, ImportError):
                pass
        if step_type.item_scope_fields:
            out += ["item", "index"]
        return out

    def _make_field(self, key: str, field: FieldInfo, value: Any,
                    suggestions: list[str]) -> QWidget:
        kind, args = field_kind(key, field)
        if kind in ("python", "sql", "json"):
            editor = CodeEditor(kind)
            editor.setPlaceholderText("JSON" if kind == "json" else "")
            editor.set_text_silently(self._to_text(kind, value))
            if kind == "json":
                editor.setMinimumHeight(70)
                editor.setMaximumHeight(160)
            editor.edited.connect(lambda text, k=key, kd=kind: self._edited(k, kd, text))
            return editor
        if kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(field.default) if value is UNSET else bool(value))
            box.toggled.connect(lambda checked, k=key: self._set_config(k, checked))
            return box
        if kind == "choice":
            combo = QComboBox()
            combo.addItems([str(a) for a in args])
            current = field.default if value is UNSET else value
            if current in args:
                combo.setCurrentIndex(list(args).index(current))
            combo.currentIndexChanged.connect(
                lambda i, k=key, a=args: self._set_config(k, a[i]))
            return combo
        if kind == "multiline":
            text = QPlainTextEdit()
            text.setPlainText(self._to_text(kind, value))
            text.setMaximumHeight(110)
            text.textChanged.connect(lambda k=key, w=text: self._edited(k, "text",
                                                                         w.toPlainText()))
            return text
        line = TemplateLineEdit(suggestions)
        line.setPlaceholderText(_placeholder(field, kind))
        if key in _MONO:
            font = line.font()
            font.setFamily("monospace")
            line.setFont(font)
        line.setText(self._to_text(kind, value))
        line.textEdited.connect(lambda text, k=key, kd=kind: self._edited(k, kd, text))
        line.setProperty("kind", kind)
        return line

    def _behaviour_box(self, data: Any) -> QGroupBox:
        box = QGroupBox("Behaviour")
        form = QFormLayout(box)
        timeout = QLineEdit("" if data.timeout_seconds is None else f"{data.timeout_seconds:g}")
        timeout.setPlaceholderText("no limit")
        timeout.textEdited.connect(self._timeout_edited)
        self.fields["@timeout_seconds"] = timeout
        form.addRow("Timeout (s)", timeout)
        cont = QCheckBox("Continue when this step fails")
        cont.setChecked(data.continue_on_error)
        cont.toggled.connect(lambda v: self._set_field("continue_on_error", v))
        self.fields["@continue_on_error"] = cont
        form.addRow("", cont)
        retry = QGroupBox("Retry on failure")
        retry.setCheckable(True)
        retry.setChecked(data.retry is not None)
        policy = data.retry or RetryPolicy()
        rform = QFormLayout(retry)
        attempts = QSpinBox(minimum=1, maximum=100, value=policy.max_attempts)
        backoff = QComboBox()
        backoff.addItems(["fixed", "linear", "exponential"])
        backoff.setCurrentText(policy.backoff)
        base = QDoubleSpinBox(minimum=0, maximum=3600, decimals=2, value=policy.base_seconds)
        cap = QDoubleSpinBox(minimum=0, maximum=86400, decimals=1, value=policy.max_seconds)
        rform.addRow("Attempts", attempts)
        rform.addRow("Backoff", backoff)
        rform.addRow("First delay (s)", base)
        rform.addRow("Longest delay (s)", cap)

        def changed(*_: Any) -> None:
            if self._refreshing:
                return
            value = RetryPolicy(max_attempts=attempts.value(), backoff=backoff.currentText(),
                                base_seconds=base.value(), max_seconds=cap.value(),
                                jitter=policy.jitter) if retry.isChecked() else None
            self._set_field("retry", value)

        retry.toggled.connect(changed)
        attempts.valueChanged.connect(changed)
        backoff.currentIndexChanged.connect(changed)
        base.valueChanged.connect(changed)
        cap.valueChanged.connect(changed)
        self.fields["@retry"] = retry
        form.addRow(retry)
        return box

    # -- edits -> commands -------------------------------------------------------------------
    @staticmethod
    def _to_text(kind: str, value: Any) -> str:
        if value is UNSET or value is None:
            return ""
        if kind == "json":
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value if isinstance(value, str) else json.dumps(value)

    def _edited(self, key: str, kind: str, text: str) -> None:
        if self._refreshing:
            return
        if text.strip() == "":
            self._set_config(key, UNSET)
            return
        if kind == "json":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                self._show_error(key, f"not valid JSON yet: {exc.msg} (line {exc.lineno})")
                return
        elif kind == "number" and "{{" not in text:
            try:
                value = float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                self._show_error(key, "enter a number or a {{ template }}")
                return
        else:
            value = text
        self._set_config(key, value)

    def _timeout_edited(self, text: str) -> None:
        if not text.strip():
            self._set_field("timeout_seconds", None)
            return
        try:
            value = float(text)
        except ValueError:
            return
        if value > 0:
            self._set_field("timeout_seconds", value)

    def _set_config(self, key: str, value: Any) -> None:
        if self.doc is None or self.node_id is None or self._refreshing:
            return
        current = self.doc.node(self.node_id).data.config.get(key, UNSET)
        if current == value or (current is UNSET and value is UNSET):
            return
        self.push(SetConfigValueCommand(self.doc, self.node_id, key, value))

    def _set_field(self, field: str, value: Any) -> None:
        if self.doc is None or self.node_id is None or self._refreshing:
            return
        if getattr(self.doc.node(self.node_id).data, field) == value:
            return
        self.push(SetNodeFieldCommand(self.doc, self.node_id, field, value))

    def _show_error(self, key: str, text: str) -> None:
        label = self.errors.get(key)
        if label is not None:
            label.setText(text)
            label.setVisible(bool(text))

    # -- document -> form --------------------------------------------------------------------
    def _on_node_removed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self.show_node(None)

    def _on_node_changed(self, node_id: str) -> None:
        if node_id != self.node_id or self.doc is None:
            return
        node = self.doc.node(node_id)
        self._refreshing = True
        try:
            for key, widget in self.fields.items():
                if widget.hasFocus() or (isinstance(widget, QGroupBox)):
                    continue
                if key == "@label" and isinstance(widget, QLineEdit):
                    widget.setText(node.data.label)
                elif key == "@timeout_seconds" and isinstance(widget, QLineEdit):
                    t = node.data.timeout_seconds
                    widget.setText("" if t is None else f"{t:g}")
                elif key == "@continue_on_error" and isinstance(widget, QCheckBox):
                    widget.setChecked(node.data.continue_on_error)
                elif not key.startswith("@"):
                    self._refresh_field(key, widget, node.data.config.get(key, UNSET))
        finally:
            self._refreshing = False

    def _refresh_field(self, key: str, widget: QWidget, value: Any) -> None:
        if isinstance(widget, CodeEditor):
            widget.set_text_silently(self._to_text(widget.language, value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value) if value is not UNSET else widget.isChecked())
        elif isinstance(widget, QComboBox) and value is not UNSET:
            widget.setCurrentText(str(value))
        elif isinstance(widget, QPlainTextEdit):
            if widget.toPlainText() != self._to_text("text", value):
                widget.setPlainText(self._to_text("text", value))
        elif isinstance(widget, QLineEdit):
            text = self._to_text(str(widget.property("kind")), value)
            if widget.text() != text:
                widget.setText(text)

    def _on_problems(self, problems: list) -> None:
        if self.node_id is None or (not self.errors and not hasattr(self, "problem_label")):
            return
        by_field: dict[str, list[str]] = {}
        general = []
        for p in problems:
            if p.node_id != self.node_id:
                continue
            root = (p.field or "").split(".")[0].split("[")[0]
            if root in self.errors:
                by_field.setdefault(root, []).append(p.message)
            else:
                general.append(str(p.message))
        for key, label in self.errors.items():
            text = "\n".join(by_field.get(key, []))
            label.setText(text)
            label.setVisible(bool(text))
        if hasattr(self, "problem_label"):
            try:
                self.problem_label.setText("\n".join(f"⚠ {g}" for g in general))
            except RuntimeError:
                pass


def _placeholder(field: FieldInfo, kind: str) -> str:
    """What an empty one-line field shows: "required", the default it falls back to, or (for
    numbers) that a template is welcome too. Never pydantic's internal PydanticUndefined."""
    if field.is_required():
        examples = field.examples or []
        return f"required, e.g. {examples[0]}" if examples else "required"
    default = field.get_default(call_default_factory=True)
    if kind == "number":
        return f"{default}" if default is not None else "number or {{ template }}"
    return "" if default in (None, "") else str(default)
