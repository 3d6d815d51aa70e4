"""Editing widgets: a code editor with syntax highlighting (Python, SQL, JSON), template
fields (one line, several lines, code) that autocomplete ``{{ input. }}`` and upstream step
outputs, an expression field that completes ``steps.`` typed without braces, and a JSON
tree. ``TemplateCompleter`` is the one completion rule every such field uses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRect, QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCompleter,
    QLineEdit,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

__all__ = ["CodeEditor", "Highlighter", "JsonTree", "TemplateCompleter", "TemplateLineEdit",
           "TemplateTextEdit"]

_PICK_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab)
_EXPRESSION_TOKEN = re.compile(r"[A-Za-z_][\w.\[\]]*\Z")


class TemplateCompleter:
    """Completion of template paths in one text widget.

    ``before`` gives the text before the cursor and ``replace(start, text)`` replaces what
    lies between ``start`` and the cursor. In template mode a popup opens after ``{{``; in
    expression mode (a condition's expression, written without braces) it opens for the
    path being typed, e.g. ``steps.fe``."""

    def __init__(self, widget: QWidget, suggestions: list[str], *, expression: bool,
                 before: Callable[[], str], after: Callable[[], str],
                 replace: Callable[[int, str, int], None]) -> None:
        self.widget = widget
        self.expression = expression
        self._before, self._after, self._replace = before, after, replace
        self.model = QStringListModel(suggestions)
        self.completer = QCompleter(self.model, widget)
        self.completer.setWidget(widget)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains if not expression
                                     else Qt.MatchFlag.MatchStartsWith)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self.insert)

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.model.setStringList(suggestions)

    def suggestions(self) -> list[str]:
        return self.model.stringList()

    def context(self) -> tuple[int, str, bool] | None:
        """(where the typed path starts, the path so far, inside braces) or None."""
        text = self._before()
        start = text.rfind("{{")
        if start >= 0 and "}}" not in text[start:]:
            return start, text[start + 2:].strip(), True
        if self.expression:
            m = _EXPRESSION_TOKEN.search(text)
            if m is not None:
                return m.start(), m.group(0), False
        return None

    def _popup(self) -> QAbstractItemView:
        popup = self.completer.popup()
        assert popup is not None  # a QCompleter always has its popup
        return popup

    def _hide_popup(self) -> None:
        self._popup().hide()

    def update(self, popup_at: Any = None) -> None:
        """Open, narrow or close the popup after an edit."""
        ctx = self.context()
        if ctx is None:
            self._hide_popup()
            return
        self.completer.setCompletionPrefix(ctx[1])
        if self.completer.completionCount() > 0:
            if popup_at is None:
                self.completer.complete()
                return
            # under the text cursor, as wide as the longest path (a cursor rect is 1 px)
            popup = self._popup()
            rect = QRect(popup_at)
            rect.setWidth(max(popup.sizeHintForColumn(0)
                              + popup.verticalScrollBar().sizeHint().width() + 8, 160))
            self.completer.complete(rect)
        else:
            self._hide_popup()

    def insert(self, path: str) -> None:
        ctx = self.context()
        if ctx is None:
            return
        start, _, braces = ctx
        if not braces:
            self._replace(start, path, 0)
            return
        rest = self._after()
        drop = len(rest) - len(rest.lstrip()) + 2 if rest.lstrip().startswith("}}") else 0
        self._replace(start, "{{ " + path + " }}", drop)

    def pick(self, event: QKeyEvent) -> bool:
        """Take Return/Enter/Tab while the popup is open: insert the highlighted path."""
        popup = self._popup()
        if not popup.isVisible() or event.key() not in _PICK_KEYS:
            return False
        index = popup.currentIndex()
        if not index.isValid():
            index = self.completer.completionModel().index(0, 0)
        popup.hide()
        self.insert(index.data())
        return True


def _text_completer(edit: QPlainTextEdit, suggestions: list[str],
                    expression: bool = False) -> TemplateCompleter:
    def before() -> str:
        return edit.toPlainText()[: edit.textCursor().position()]

    def after() -> str:
        return edit.toPlainText()[edit.textCursor().position():]

    def replace(start: int, text: str, drop: int) -> None:
        cursor = edit.textCursor()
        end = cursor.position()
        cursor.setPosition(start)
        cursor.setPosition(end + drop, cursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        edit.setTextCursor(cursor)

    return TemplateCompleter(edit, suggestions, expression=expression, before=before,
                             after=after, replace=replace)

_PY_KEYWORDS = (
    "and as assert async await break class continue def del elif else except False "
    "finally for from global if import in is lambda None nonlocal not or pass raise "
    "return True try while with yield "
).split()
_SQL_KEYWORDS = (
    "select from where and or not insert into values update set delete join left right "
    "inner outer on group by order having limit offset as distinct count sum avg min max "
    "create table drop alter null is in like between case when then else end union all "
    "with returning desc asc "
).split()


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class Highlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, language: str) -> None:
        super().__init__(document)
        self.language = language
        rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        if language == "python":
            rules.append((re.compile(r"\b(" + "|".join(_PY_KEYWORDS) + r")\b"),
                          _fmt("#7c3aed", bold=True)))
            rules.append((re.compile(r"\b(result|input|steps|item|index|print|len|range)\b"),
                          _fmt("#0369a1")))
        elif language == "sql":
            rules.append((re.compile(r"\b(" + "|".join(_SQL_KEYWORDS) + r")\b", re.IGNORECASE),
                          _fmt("#7c3aed", bold=True)))
            rules.append((re.compile(r":\w+"), _fmt("#0369a1", bold=True)))
        elif language == "json":
            rules.append((re.compile(r'"[^"\\]*(\\.[^"\\]*)*"\s*(?=:)'), _fmt("#0369a1")))
            rules.append((re.compile(r"\b(true|false|null)\b"), _fmt("#7c3aed", bold=True)))
        rules.append((re.compile(r"\b-?\d+(\.\d+)?\b"), _fmt("#b45309")))
        rules.append((re.compile(r"\{\{.*?\}\}"), _fmt("#059669", bold=True)))
        self.rules = rules
        self.string_fmt = _fmt("#15803d")
        self.comment_fmt = _fmt("#6b7280", italic=True)

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), fmt)
        for m in re.finditer(r"'[^'\n]*'|\"[^\"\n]*\"", text):
            if self.language == "json" and text[m.end():].lstrip().startswith(":"):
                continue
            self.setFormat(m.start(), m.end() - m.start(), self.string_fmt)
        comment = {"python": "#", "sql": "--"}.get(self.language)
        if comment and comment in text:
            start = text.index(comment)
            self.setFormat(start, len(text) - start, self.comment_fmt)


class CodeEditor(QPlainTextEdit):
    """Monospace, highlighted, tab inserts four spaces; ``edited`` fires on every change."""

    edited = Signal(str)

    def __init__(self, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.language = language
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(9.5)
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = Highlighter(self.document(), language)
        self.setMinimumHeight(120)
        self._silent = False
        self.completion = _text_completer(self, [])
        self.textChanged.connect(self._changed)

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.completion.set_suggestions(suggestions)

    def set_text_silently(self, text: str) -> None:
        if text == self.toPlainText():
            return
        self._silent = True
        self.setPlainText(text)
        self._silent = False

    def _changed(self) -> None:
        if not self._silent:
            self.edited.emit(self.toPlainText())
            if self.hasFocus():
                self.completion.update(self.cursorRect())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.completion.pick(event):
            return
        if event.key() == Qt.Key.Key_Tab:
            self.insertPlainText("    ")
            return
        super().keyPressEvent(event)


class TemplateTextEdit(QPlainTextEdit):
    """A multi-line text field (a prompt, an email body) that completes templates."""

    def __init__(self, suggestions: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.completion = _text_completer(self, suggestions)
        self.textChanged.connect(self._changed)

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.completion.set_suggestions(suggestions)

    def _changed(self) -> None:
        if self.hasFocus():
            self.completion.update(self.cursorRect())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.completion.pick(event):
            return
        super().keyPressEvent(event)


class TemplateLineEdit(QLineEdit):
    """A line edit that offers template paths after ``{{`` (with ``expression``: also for
    a path typed without braces, as in a condition)."""

    def __init__(self, suggestions: list[str], parent: QWidget | None = None, *,
                 expression: bool = False) -> None:
        super().__init__(parent)

        def replace(start: int, text: str, drop: int) -> None:
            cursor = self.cursorPosition()
            new = self.text()[:start] + text
            self.setText(new + self.text()[cursor + drop:])
            self.setCursorPosition(len(new))
            self.textEdited.emit(self.text())

        self.completion = TemplateCompleter(
            self, suggestions, expression=expression,
            before=lambda: self.text()[: self.cursorPosition()],
            after=lambda: self.text()[self.cursorPosition():], replace=replace)
        self.completer_ = self.completion.completer
        self.model = self.completion.model
        self.textEdited.connect(lambda _text: self.completion.update())

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.completion.set_suggestions(suggestions)

    def insert_completion(self, path: str) -> None:
        self.completion.insert(path)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.completion.pick(event):
            return
        super().keyPressEvent(event)


class JsonTree(QTreeWidget):
    """A JSON value as an expandable tree; Ctrl+C copies the selected value as JSON."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["key", "value"])
        self.setColumnWidth(0, 180)
        self.setAlternatingRowColors(True)
        self.value: Any = None

    def set_value(self, value: Any) -> None:
        self.value = value
        self.clear()
        self._add(self.invisibleRootItem(), "value", value, depth=0)
        self.expandToDepth(1)

    def _add(self, parent: QTreeWidgetItem, key: str, value: Any, depth: int) -> None:
        item = QTreeWidgetItem(parent, [key, ""])
        item.setData(0, Qt.ItemDataRole.UserRole, value)
        if isinstance(value, dict):
            item.setText(1, f"{{{len(value)}}}")
            for k, v in list(value.items())[:500]:
                self._add(item, str(k), v, depth + 1)
        elif isinstance(value, list):
            item.setText(1, f"[{len(value)}]")
            for i, v in enumerate(value[:500]):
                self._add(item, str(i), v, depth + 1)
        else:
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            item.setText(1, text if len(text) < 500 else text[:499] + "…")
            item.setToolTip(1, text[:4000])

    def selected_json(self) -> str:
        items = self.selectedItems()
        value = items[0].data(0, Qt.ItemDataRole.UserRole) if items else self.value
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)

    def copy_selected(self) -> None:
        QApplication.clipboard().setText(self.selected_json())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selected()
            return
        super().keyPressEvent(event)
