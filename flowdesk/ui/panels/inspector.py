"""The inspector: a form built from the selected step's pydantic config model, plus its
label, timeout, retry policy, continue-on-error and error port. Every edit is an undo command on the
document; typing in one field merges into one command. Problems of the step are shown inline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from flowdesk.document.commands import (
    SetConfigValueCommand,
    SetErrorOutputCommand,
    SetNodeFieldCommand,
)
from flowdesk.document.document import UNSET, WorkflowDocument
from flowdesk.engine.registry import StepType
from flowdesk.engine.validation import WORKFLOW_REF_FIELDS
from flowdesk.model.errors import Problem, UnknownStepType
from flowdesk.model.workflow import NodeData, RetryPolicy
from flowdesk.ui.panels.config_form import (
    BehaviourHooks,
    FieldHooks,
    behaviour_box,
    field_kind,
    field_label,
    make_field,
)
from flowdesk.ui.panels.editors import CodeEditor
from flowdesk.ui.panels.fields import field_text, parse_field_text, whole_template
from flowdesk.ui.theme import step_icon

__all__ = ["Inspector", "field_kind"]  # field_kind: re-exported from config_form

log = logging.getLogger(__name__)

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
        self.modes: dict[str, QLabel] = {}
        self.completing: list[Any] = []
        self._refreshing = False
        # builds the selected step's Test/Pin bar (set by the window's step-testing part)
        self.step_bar: Callable[[str], QWidget] | None = None
        self._show_empty("Select a step to edit it.")

    def _doc_signals(self, doc: WorkflowDocument) -> list[tuple[Any, Any]]:
        return [(doc.node_changed, self._on_node_changed),
                (doc.problems_changed, self._on_problems),
                (doc.node_removed, self._on_node_removed),
                # what is upstream (and so what completion offers) follows the graph
                (doc.edge_added, self.refresh_suggestions),
                (doc.edge_removed, self.refresh_suggestions),
                (doc.node_added, self.refresh_suggestions),
                (doc.node_removed, self.refresh_suggestions)]

    def set_document(self, doc: WorkflowDocument | None) -> None:
        if self.doc is not None:
            for signal, slot in self._doc_signals(self.doc):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.doc = doc
        if doc is not None:
            for signal, slot in self._doc_signals(doc):
                signal.connect(slot)
        self.show_node(None)

    def refresh_suggestions(self, *_: Any) -> None:
        """Recompute what every completing field offers (after the graph changed)."""
        if self.doc is None or self.node_id is None or not self.doc.has_node(self.node_id):
            return
        try:
            step_type = self.doc.registry.get(self.doc.node(self.node_id).type)
        except (UnknownStepType, ImportError):
            return
        suggestions = self._suggestions(step_type)
        for widget in self.completing:
            widget.set_suggestions(suggestions)

    # -- building ----------------------------------------------------------------------------
    def _show_empty(self, text: str) -> None:
        self.fields, self.errors, self.modes, self.completing = {}, {}, {}, []
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setProperty("role", "hint")
        self.setWidget(label)

    def show_node(self, node_id: str | None) -> None:
        """Show the form of ``node_id`` (None: the hint). If the form cannot be built, an
        error note replaces it: the previous step's form is never left on screen."""
        self.node_id = node_id
        if self.doc is None or node_id is None or not self.doc.has_node(node_id):
            self.node_id = None
            self._show_empty("Select a step to edit it.\n\nDrag steps from the palette, "
                             "connect an output port to an input port, and press Run.")
            return
        try:
            self._build_form(node_id)
        except Exception as exc:
            log.exception("cannot show step %s in the inspector", node_id)
            self.node_id = None
            self._show_empty(f"Cannot show the settings of '{node_id}': {exc}\n\n"
                             "Undo the last edit, or export the workflow and report this.")

    def _build_form(self, node_id: str) -> None:
        assert self.doc is not None
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
        if self.step_bar is not None and step_type is not None:  # Test step, Pin output
            outer.addWidget(self.step_bar(node_id))
        self.fields, self.errors, self.modes = {}, {}, {}
        self.kinds: dict[str, str] = {}
        self.defaults: dict[str, Any] = {}
        self.completing = []
        drafts = self.doc.drafts_of(node_id)

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
                self.kinds[key] = field_kind(key, field)[0]
                self.defaults[key] = field.default
                hooks = FieldHooks(self._edited, self._set_config, self.completing,
                                   self.modes, self._workflow_names(key),
                                   key in self._expression_fields())
                widget = make_field(key, field, node.data.config.get(key, UNSET),
                                    suggestions, hooks, drafts.get(key))
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
                if key in self.modes:
                    col.addWidget(self.modes[key])
                col.addWidget(error)
                if field.description:
                    widget.setToolTip(field.description)
                form.addRow(field_label(key), holder)
            outer.addWidget(box)
        else:
            outer.addWidget(QLabel(f"Unknown step type '{node.type}'."))

        outer.addWidget(self._behaviour(node_id, node.data, drafts.get("@timeout_seconds")))
        self.problem_label = QLabel()
        self.problem_label.setProperty("role", "error")
        self.problem_label.setWordWrap(True)
        outer.addWidget(self.problem_label)
        outer.addStretch(1)
        self.setWidget(body)
        self._on_problems(self.doc.problems)
        for key in drafts:
            self._update_mode(key)

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

    def _workflow_names(self, key: str) -> list[str] | None:
        """The saved workflows to choose from when config field ``key`` names one."""
        assert self.doc is not None and self.node_id is not None
        if WORKFLOW_REF_FIELDS.get(self.doc.node(self.node_id).type) != key:
            return None
        return sorted(self.doc.saved_workflows()) if self.doc.saved_workflows else []

    def _expression_fields(self) -> frozenset[str]:
        if self.doc is None or self.node_id is None:
            return frozenset()
        try:
            return self.doc.registry.get(self.doc.node(self.node_id).type).expression_fields
        except (UnknownStepType, ImportError, KeyError):
            return frozenset()

    def _behaviour(self, node_id: str, data: NodeData, draft: str | None) -> QGroupBox:
        def current_retry() -> RetryPolicy | None:
            return None if self.doc is None else self.doc.node(node_id).data.retry

        parts = behaviour_box(data, draft, BehaviourHooks(
            self._timeout_edited, self._set_field, self._set_error_output,
            lambda: self._refreshing or self.doc is None or self.node_id is None,
            current_retry))
        self.fields["@timeout_seconds"] = parts.timeout
        self.errors["@timeout_seconds"] = parts.timeout_error
        self.fields["@continue_on_error"] = parts.continue_on_error
        self.fields["@on_error"] = parts.error_output
        self.fields["@retry"] = parts.retry
        self.retry_widgets = parts.retry_widgets
        return parts.box

    # -- edits -> commands -------------------------------------------------------------------
    @staticmethod
    def _to_text(kind: str, value: Any) -> str:
        return field_text(kind, value)

    def _edited(self, key: str, kind: str, text: str) -> None:
        if self._refreshing:
            return
        value, draft, error = parse_field_text(kind, text)
        self._set_config(key, value, draft)
        if error:
            self._show_error(key, error)
        self._update_mode(key)

    def _update_mode(self, key: str) -> None:
        """Under a JSON field: whether its text is taken as an expression or as JSON."""
        mode = self.modes.get(key)
        widget = self.fields.get(key)
        if mode is None or not isinstance(widget, CodeEditor):
            return
        text = widget.toPlainText()
        if not text.strip():
            mode.setText("")
        elif whole_template(text):
            mode.setText("ƒ Expression: the whole value comes from this template "
                         "(a list stays a list)")
        elif self.doc is not None and self.node_id is not None and \
                key in self.doc.drafts_of(self.node_id):
            mode.setText("Draft: not a value yet (kept as typed, not used in runs)")
        else:
            mode.setText("Fixed JSON value (templates inside strings are filled in)")
        mode.setVisible(bool(mode.text()))

    @staticmethod
    def _parse_timeout(text: str) -> tuple[float | None, str | None]:
        """(value, draft): empty is no limit; text that is not a number > 0 is a draft."""
        if not text.strip():
            return None, None
        try:
            value = float(text)
        except ValueError:
            return None, text
        return (value, None) if value > 0 else (None, text)

    def _timeout_edited(self, text: str) -> None:
        value, draft = self._parse_timeout(text)
        self._set_field("timeout_seconds", value, draft)
        if draft is not None:
            self._show_error("@timeout_seconds", "enter a number of seconds above 0; kept "
                                                 "as typed")

    def _set_config(self, key: str, value: Any, draft: str | None = None) -> None:
        if self.doc is None or self.node_id is None or self._refreshing:
            return
        current = self.doc.node(self.node_id).data.config.get(key, UNSET)
        current_draft = self.doc.drafts_of(self.node_id).get(key)
        if draft == current_draft and (current == value or (current is UNSET and
                                                            value is UNSET)):
            return
        self.push(SetConfigValueCommand(self.doc, self.node_id, key, value, draft))

    def _set_field(self, field: str, value: Any, draft: str | None = None) -> None:
        if self.doc is None or self.node_id is None or self._refreshing:
            return
        if getattr(self.doc.node(self.node_id).data, field) == value and \
                self.doc.drafts_of(self.node_id).get(f"@{field}") == draft:
            return
        self.push(SetNodeFieldCommand(self.doc, self.node_id, field, value, draft))

    def _set_error_output(self, on: bool) -> None:
        if self.doc is not None and self.node_id is not None and not self._refreshing \
                and self.doc.node(self.node_id).data.error_output != on:
            self.push(SetErrorOutputCommand(self.doc, self.node_id, on))

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
        """After any change of the node (an edit, undo, redo): every widget shows the
        document's value. A widget whose text already means that value is left alone, so
        typing is never disturbed."""
        if node_id != self.node_id or self.doc is None or not self.doc.has_node(node_id):
            return
        node = self.doc.node(node_id)
        drafts = self.doc.drafts_of(node_id)
        self._refreshing = True
        try:
            for key, widget in self.fields.items():
                if key == "@label" and isinstance(widget, QLineEdit):
                    if widget.text() != node.data.label:
                        widget.setText(node.data.label)
                elif key == "@timeout_seconds" and isinstance(widget, QLineEdit):
                    self._refresh_timeout(widget, node.data.timeout_seconds,
                                          drafts.get("@timeout_seconds"))
                elif key == "@continue_on_error" and isinstance(widget, QCheckBox):
                    widget.setChecked(node.data.continue_on_error)
                elif key == "@on_error" and isinstance(widget, QCheckBox):
                    widget.setChecked(node.data.error_output)
                elif key == "@retry" and isinstance(widget, QGroupBox):
                    self._refresh_retry(widget, node.data.retry)
                elif not key.startswith("@"):
                    self._refresh_field(key, widget, node.data.config.get(key, UNSET),
                                        drafts.get(key))
                    self._update_mode(key)
        finally:
            self._refreshing = False

    def _refresh_timeout(self, widget: QLineEdit, value: float | None,
                         draft: str | None) -> None:
        if self._parse_timeout(widget.text()) != (value, draft):
            widget.setText(draft if draft is not None else
                           "" if value is None else f"{value:g}")

    def _refresh_retry(self, box: QGroupBox, policy: RetryPolicy | None) -> None:
        box.setChecked(policy is not None)
        attempts, backoff, base, cap = self.retry_widgets
        shown = policy or RetryPolicy()
        attempts.setValue(shown.max_attempts)
        backoff.setCurrentText(shown.backoff)
        base.setValue(shown.base_seconds)
        cap.setValue(shown.max_seconds)

    def _refresh_field(self, key: str, widget: QWidget, value: Any,
                       draft: str | None = None) -> None:
        kind = self.kinds.get(key, "text")
        default = self.defaults.get(key)
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(default) if value is UNSET else bool(value))
        elif isinstance(widget, QComboBox) and widget.isEditable():
            text = value if isinstance(value, str) else ""
            if widget.currentText() != text:
                widget.setEditText(text)
        elif isinstance(widget, QComboBox):
            current = default if value is UNSET else value
            index = widget.findText(str(current)) if current is not None else -1
            if index >= 0:
                widget.setCurrentIndex(index)
        elif isinstance(widget, QPlainTextEdit):
            text = widget.toPlainText()
            if parse_field_text(kind, text)[:2] != (value, draft):
                new = draft if draft is not None else self._to_text(kind, value)
                if isinstance(widget, CodeEditor):
                    widget.set_text_silently(new)
                elif text != new:
                    widget.setPlainText(new)
        elif isinstance(widget, QLineEdit):
            if parse_field_text(kind, widget.text())[:2] != (value, draft):
                cursor = widget.cursorPosition()
                widget.setText(draft if draft is not None else self._to_text(kind, value))
                widget.setCursorPosition(min(cursor, len(widget.text())))

    def _on_problems(self, problems: list[Problem]) -> None:
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
