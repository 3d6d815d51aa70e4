"""What a drag carries: a step type from the palette, or workflow files from a file manager.

The one place that encodes a palette drag (``step_mime``/``dragged_step``) and decides which
dropped URLs are workflow files (local ``.json`` files); the palette, the canvas and the
window all ask it.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData

__all__ = ["STEP_MIME", "dragged_step", "step_mime", "workflow_files"]

STEP_MIME = "application/x-flowdesk-step"


def step_mime(step_type: str) -> QMimeData:
    """The drag data of a palette entry (its type also as text, for other drop targets)."""
    mime = QMimeData()
    mime.setData(STEP_MIME, step_type.encode())
    mime.setText(step_type)
    return mime


def dragged_step(mime: QMimeData | None) -> str | None:
    """The step type a palette drag carries, or None for any other drag."""
    if mime is None or not mime.hasFormat(STEP_MIME):
        return None
    return bytes(mime.data(STEP_MIME).data()).decode()


def workflow_files(mime: QMimeData | None) -> list[str]:
    """The local ``.json`` files in a drag, in the order dragged (none for other data)."""
    if mime is None:
        return []
    return [url.toLocalFile() for url in mime.urls()
            if url.isLocalFile() and url.toLocalFile().lower().endswith(".json")]
