"""The Qt non-widget layer: the open workflow with its undo stack, the undo commands, the
auto-layout, and the RunController that turns engine events into Qt signals."""

from __future__ import annotations

from flowdesk.document.commands import (
    AddItemsCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    RenameWorkflowCommand,
    SetConfigValueCommand,
    SetErrorOutputCommand,
    SetNodeFieldCommand,
)
from flowdesk.document.document import WorkflowDocument
from flowdesk.document.layout import layered_layout
from flowdesk.document.run_controller import RunController, StepView

__all__ = [
    "AddItemsCommand",
    "MoveNodesCommand",
    "RemoveItemsCommand",
    "RenameWorkflowCommand",
    "RunController",
    "SetConfigValueCommand",
    "SetErrorOutputCommand",
    "SetNodeFieldCommand",
    "StepView",
    "WorkflowDocument",
    "layered_layout",
]
