"""File → Open database…: open another flowdesk database — a SQLite file, or a team's
PostgreSQL URL — in a new window. The new window is a new `flowdesk --db URL` process, so
each window has one database for its whole life (its runs, approvals and live updates), as
on the command line; the database is checked first, so a wrong URL is told here, not by a
window that never appears."""

from __future__ import annotations

import sys

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from flowdesk.model.errors import FlowdeskError
from flowdesk.store import open_store

__all__ = ["ask_and_open_database", "database_command", "open_database"]


def database_command(url: str) -> list[str]:
    """The command that starts the app on ``url``: the bundle's own program when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--db", url]
    return [sys.executable, "-m", "flowdesk", "--db", url]


def open_database(url: str) -> tuple[int | None, str]:
    """Check that ``url`` opens (migrating it if it is new), then start a window on it.
    Returns (the new process's pid, "") or (None, why it cannot be opened)."""
    url = url.strip()
    if not url:
        return None, "no database given"
    try:
        open_store(url).close()
    except FlowdeskError as exc:
        return None, str(exc)
    program, *args = database_command(url)
    started, pid = QProcess.startDetached(program, args)
    if not started:
        return None, f"could not start {program}"
    return int(pid), ""


def ask_and_open_database(parent: QWidget, current: str) -> int | None:
    """Ask for the database (the current one shown as an example), open it in a new window,
    and tell the person why when it cannot be opened."""
    url, ok = QInputDialog.getText(
        parent, "Open database",
        "A SQLite file, or a team database URL (postgresql://user@host/name),\n"
        "to open in a new window:", QLineEdit.EchoMode.Normal, current)
    if not ok or not url.strip():
        return None
    pid, problem = open_database(url)
    if pid is None:
        QMessageBox.warning(parent, "Open database", f"Cannot open {url.strip()}:\n{problem}")
    return pid
