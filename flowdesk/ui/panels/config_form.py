"""The inspector's form pieces for one step: which editor a config field gets
(``field_kind``), the editor itself (``make_field``, a saved-workflow chooser for fields that
name a workflow), and the Behaviour group (timeout, continue on error, the error port,
retry policy).

The pieces hold no document state: what the user types goes to the hooks the inspector
gives (``FieldHooks``, ``BehaviourHooks``), which turn it into undo commands.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.document.document import UNSET
from flowdesk.model.workflow import NodeData, RetryPolicy
from flowdesk.ui.panels.editors import CodeEditor, TemplateLineEdit, TemplateTextEdit
from flowdesk.ui.panels.fields import field_text

__all__ = ["Behaviour", "BehaviourHooks", "FieldHooks", "behaviour_box", "field_kind",
           "field_label", "make_field", "placeholder", "workflow_combo"]

RetryWidgets = tuple[QSpinBox, QComboBox, QDoubleSpinBox, QDoubleSpinBox]


@dataclass
class FieldHooks:
    """Where a config field's edits go, and what the form collects while it is built."""

    edited: Callable[[str, str, str], None]  # key, kind, text as typed
    set_config: Callable[[str, Any], None]  # key, value
    completing: list[Any] = field(default_factory=list)  # editors that complete templates
    modes: dict[str, QLabel] = field(default_factory=dict)  # JSON fields' mode notes
    workflows: list[str] | None = None  # the saved workflows, when the field names one
    expression: bool = False  # the field is an expression (completion without {{ }})


@dataclass(frozen=True)
class BehaviourHooks:
    timeout_edited: Callable[[str], None]
    set_field: Callable[[str, Any], None]  # node field (continue_on_error, retry), value
    set_error_output: Callable[[bool], None]  # the error port on / off
    refreshing: Callable[[], bool]  # True while the inspector shows a change (no echo)
    current_retry: Callable[[], RetryPolicy | None]


@dataclass(frozen=True)
class Behaviour:
    box: QGroupBox
    timeout: QLineEdit
    timeout_error: QLabel
    continue_on_error: QCheckBox
    error_output: QCheckBox
    retry: QGroupBox
    retry_widgets: RetryWidgets


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


def field_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def make_field(key: str, field: FieldInfo, value: Any, suggestions: list[str],
               hooks: FieldHooks, draft: str | None = None) -> QWidget:
    """The editor of config field ``key`` showing ``value`` (or the unparsed ``draft``);
    edits go to the hooks, the field's mode note to ``hooks.modes``."""
    kind, args = field_kind(key, field)
    if hooks.workflows is not None:
        return workflow_combo(key, value, hooks)
    if kind in ("python", "sql", "json"):
        editor = CodeEditor(kind)
        editor.setPlaceholderText(
            "JSON, or one {{ template }} for the whole value" if kind == "json" else "")
        editor.set_text_silently(draft if draft is not None else field_text(kind, value))
        editor.set_suggestions(suggestions)
        hooks.completing.append(editor)
        if kind == "json":
            editor.setMinimumHeight(70)
            editor.setMaximumHeight(160)
            mode = QLabel()
            mode.setProperty("role", "hint")
            mode.setWordWrap(True)
            hooks.modes[key] = mode
        editor.edited.connect(lambda text, k=key, kd=kind: hooks.edited(k, kd, text))
        return editor
    if kind == "bool":
        box = QCheckBox()
        box.setChecked(bool(field.default) if value is UNSET else bool(value))
        box.toggled.connect(lambda checked, k=key: hooks.set_config(k, checked))
        return box
    if kind == "choice":
        combo = QComboBox()
        combo.addItems([str(a) for a in args])
        current = field.default if value is UNSET else value
        if current in args:
            combo.setCurrentIndex(list(args).index(current))
        combo.currentIndexChanged.connect(
            lambda i, k=key, a=args: hooks.set_config(k, a[i]) if 0 <= i < len(a) else None)
        return combo
    if kind == "multiline":
        text = TemplateTextEdit(suggestions)
        hooks.completing.append(text)
        text.setPlainText(field_text(kind, value))
        text.setMaximumHeight(110)
        text.textChanged.connect(lambda k=key, w=text: hooks.edited(k, "text",
                                                                     w.toPlainText()))
        return text
    line = TemplateLineEdit(suggestions, expression=hooks.expression)
    hooks.completing.append(line)
    line.setPlaceholderText(placeholder(field, kind))
    if key in _MONO:
        font = line.font()
        font.setFamily("monospace")
        line.setFont(font)
    line.setText(draft if draft is not None else field_text(kind, value))
    line.textEdited.connect(lambda text, k=key, kd=kind: hooks.edited(k, kd, text))
    line.setProperty("kind", kind)
    return line


def workflow_combo(key: str, value: Any, hooks: FieldHooks) -> QComboBox:
    """The saved workflows to choose from; still editable (a name saved later, or a
    {{ template }}); a name that is not saved is a problem shown under it."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(hooks.workflows or [])
    combo.setEditText(value if isinstance(value, str) else "")
    line = combo.lineEdit()
    assert line is not None  # an editable combo box has its line edit
    line.setPlaceholderText("choose a saved workflow")
    line.textEdited.connect(lambda text, k=key: hooks.edited(k, "text", text))
    combo.textActivated.connect(lambda text, k=key: hooks.edited(k, "text", text))
    return combo


def behaviour_box(data: NodeData, timeout_draft: str | None,
                  hooks: BehaviourHooks) -> Behaviour:
    """The Behaviour group: timeout, continue on error, the error port, retry policy."""
    box = QGroupBox("Behaviour")
    form = QFormLayout(box)
    timeout = QLineEdit("" if data.timeout_seconds is None else f"{data.timeout_seconds:g}")
    timeout.setPlaceholderText("no limit")
    if timeout_draft is not None:
        timeout.setText(timeout_draft)
    timeout.textEdited.connect(hooks.timeout_edited)
    error = QLabel()
    error.setProperty("role", "error")
    error.setWordWrap(True)
    error.hide()
    holder = QWidget()
    col = QVBoxLayout(holder)
    col.setContentsMargins(0, 0, 0, 0)
    col.addWidget(timeout)
    col.addWidget(error)
    form.addRow("Timeout (s)", holder)
    cont = QCheckBox("Continue when this step fails")
    cont.setChecked(data.continue_on_error)
    cont.toggled.connect(lambda v: hooks.set_field("continue_on_error", v))
    form.addRow("", cont)
    routed = QCheckBox("Send failures to an error port")
    routed.setToolTip("After its retries, a failure leaves through the red 'error' port with "
                      "{error: {message, type, retriable, attempts}, input}, and the run goes "
                      "on; the ordinary output is then skipped. Off removes the error edges.")
    routed.setChecked(data.error_output)
    cont.setDisabled(data.error_output)  # the error port takes the failure instead
    routed.toggled.connect(cont.setDisabled)
    routed.toggled.connect(hooks.set_error_output)
    form.addRow("", routed)
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
        if hooks.refreshing():
            return
        current = hooks.current_retry()
        value = RetryPolicy(max_attempts=attempts.value(), backoff=backoff.currentText(),
                            base_seconds=base.value(), max_seconds=cap.value(),
                            jitter=current.jitter if current else policy.jitter) \
            if retry.isChecked() else None
        hooks.set_field("retry", value)

    retry.toggled.connect(changed)
    attempts.valueChanged.connect(changed)
    backoff.currentIndexChanged.connect(changed)
    base.valueChanged.connect(changed)
    cap.valueChanged.connect(changed)
    form.addRow(retry)
    return Behaviour(box, timeout, error, cont, routed, retry, (attempts, backoff, base, cap))


def placeholder(field: FieldInfo, kind: str) -> str:
    """What an empty one-line field shows: "required", the default it falls back to, or (for
    numbers) that a template is welcome too. Never pydantic's internal PydanticUndefined."""
    if field.is_required():
        examples = field.examples or []
        return f"required, e.g. {examples[0]}" if examples else "required"
    default = field.get_default(call_default_factory=True)
    if kind == "number":
        return f"{default}" if default is not None else "number or {{ template }}"
    return "" if default in (None, "") else str(default)
