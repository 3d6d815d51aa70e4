"""The undo command of a pin: pin a step's output, change it, or unpin it (one gesture, one
entry). It holds the step id and both values and calls ``WorkflowDocument.set_pin`` only."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from flowdesk.document.document import UNSET, WorkflowDocument

__all__ = ["SetPinCommand"]


class SetPinCommand(QUndoCommand):
    """Pin ``value`` as the output of ``node_id`` (``UNSET`` unpins)."""

    def __init__(self, doc: WorkflowDocument, node_id: str, value: Any,
                 text: str | None = None) -> None:
        unpin = value is UNSET
        super().__init__(text or (f"Unpin {node_id}" if unpin else f"Pin {node_id}"))
        self.doc = doc
        self.node_id = node_id
        self.old = copy.deepcopy(doc.pins[node_id]) if doc.is_pinned(node_id) else UNSET
        self.new = value if unpin else copy.deepcopy(value)

    def redo(self) -> None:
        self.doc.set_pin(self.node_id, self.new)

    def undo(self) -> None:
        self.doc.set_pin(self.node_id, self.old)
