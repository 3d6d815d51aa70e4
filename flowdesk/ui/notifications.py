"""Notices to the user: short messages in the status bar, and whether the work is saved.

``Notifier.notify`` logs a notice, keeps it as ``last_notice`` (tests and journeys read it)
and shows it in the status bar for a few seconds. ``SaveIndicator`` turns the library's
``saved``/``save_failed`` signals into what the user sees: a brief "Saved" message, and while
saving fails a lasting red mark in the status bar plus a notice (never silently).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from flowdesk.dburl import display_name
from flowdesk.document.library import WorkflowLibrary
from flowdesk.model.errors import StoreError
from flowdesk.store.database import database_url

__all__ = ["NOTICE_MS", "Notifier", "SaveIndicator", "database_label"]

log = logging.getLogger(__name__)

NOTICE_MS = 8000


class Notifier(QObject):
    notice = Signal(str)  # a notice was given (its text)

    def __init__(self, status_bar: QStatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.last_notice = ""
        self.notice.connect(lambda text: status_bar.showMessage(text, NOTICE_MS))

    def notify(self, text: str) -> None:
        self.last_notice = text
        log.info("%s", text)
        self.notice.emit(text)


class SaveIndicator(QObject):
    """The status bar's saved / NOT saved marks for the open workflow. A child of the
    window (``notifier``'s parent), so the library's signals stop reaching it with it."""

    def __init__(self, library: WorkflowLibrary, status_bar: QStatusBar, notifier: Notifier,
                 title_changed: Callable[[], None]) -> None:
        super().__init__(notifier.parent())
        self._status_bar = status_bar
        self._notifier = notifier
        self._title_changed = title_changed
        self.label = QLabel()
        self.label.setProperty("role", "error")
        self.label.hide()
        status_bar.addPermanentWidget(self.label)
        library.saved.connect(self.saved)
        library.save_failed.connect(self.save_failed)

    def saved(self, name: str, version: int) -> None:
        self._status_bar.showMessage(f"Saved '{name}' (version {version})", 3000)
        self._title_changed()

    def save_failed(self, message: str) -> None:
        """A failed save is shown at once: title, a lasting status-bar mark, a notice;
        ``""`` says saving works again."""
        self.label.setText("Not saved: see why" if message else "")
        self.label.setToolTip(message)
        self.label.setVisible(bool(message))
        self._notifier.notify(message or "Saved again: all edits are stored")
        self._title_changed()


def database_label(url: str) -> str:
    """What the window title adds for a window on another database than the usual one
    (``$FLOWDESK_DB``, else the data folder's file): ``"team.db — "``, ``"db.example/flows — "``
    (never a password), so two windows on two databases are told apart; ``""`` otherwise."""
    try:
        if url == database_url(None):
            return ""
    except StoreError:
        pass
    return f"{display_name(url)} — "
