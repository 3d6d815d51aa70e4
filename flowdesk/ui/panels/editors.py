"""Editing widgets: a code editor with syntax highlighting (Python, SQL, JSON), a template
field that autocompletes ``{{ input. }}`` and upstream step outputs, and a JSON tree."""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
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
    QApplication,
    QCompleter,
    QLineEdit,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

__all__ = ["CodeEditor", "Highlighter", "JsonTree", "TemplateLineEdit"]

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
        self.textChanged.connect(self._changed)

    def set_text_silently(self, text: str) -> None:
        if text == self.toPlainText():
            return
        self._silent = True
        self.setPlainText(text)
        self._silent = False

    def _changed(self) -> None:
        if not self._silent:
            self.edited.emit(self.toPlainText())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Tab:
            self.insertPlainText("    ")
            return
        super().keyPressEvent(event)


class TemplateLineEdit(QLineEdit):
    """A line edit that offers template paths after ``{{``."""

    def __init__(self, suggestions: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QStringListModel(suggestions)
        self.completer_ = QCompleter(self.model, self)
        self.completer_.setWidget(self)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer_.activated.connect(self.insert_completion)
        self.textEdited.connect(self._maybe_complete)

    def set_suggestions(self, suggestions: list[str]) -> None:
        self.model.setStringList(suggestions)

    def _open_template(self) -> tuple[int, str] | None:
        text = self.text()[: self.cursorPosition()]
        start = text.rfind("{{")
        if start < 0 or "}}" in text[start:]:
            return None
        return start, text[start + 2:].strip()

    def _maybe_complete(self, _text: str) -> None:
        open_ = self._open_template()
        if open_ is None:
            self.completer_.popup().hide()
            return
        self.completer_.setCompletionPrefix(open_[1])
        if self.completer_.completionCount() > 0:
            self.completer_.complete()
        else:
            self.completer_.popup().hide()

    def insert_completion(self, path: str) -> None:
        open_ = self._open_template()
        if open_ is None:
            return
        start = open_[0]
        cursor = self.cursorPosition()
        rest = self.text()[cursor:]
        if rest.lstrip().startswith("}}"):
            rest = rest.lstrip()[2:]
        new = self.text()[:start] + "{{ " + path + " }}"
        self.setText(new + rest)
        self.setCursorPosition(len(new))
        self.textEdited.emit(self.text())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self.completer_.popup()
        if popup.isVisible() and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter,
                                                 Qt.Key.Key_Tab):
            index = popup.currentIndex()
            if not index.isValid():
                index = self.completer_.completionModel().index(0, 0)
            popup.hide()
            self.insert_completion(index.data())
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
