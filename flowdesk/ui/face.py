"""What the window's parts may ask of the window they serve (STYLE.md rule 16).

The library controller, the run presenter and the menus depend on this protocol, not on
``MainWindow``: the window satisfies it, and no part imports the window module (no cycle).
"""

from __future__ import annotations

from typing import Protocol

from flowdesk.document.document import WorkflowDocument

__all__ = ["WindowShell"]


class WindowShell(Protocol):
    """The open document, how to show another one, and how to tell the user something."""

    doc: WorkflowDocument | None

    def open_document(self, doc: WorkflowDocument) -> None:
        """Show ``doc`` on the canvas (it becomes the open document)."""

    def notify(self, text: str) -> None:
        """A short notice in the status bar (kept as ``last_notice``)."""

    def update_title(self) -> None:
        """Refresh the window title (name, version, unsaved marks)."""
