"""Pure data types of flowdesk: no Qt, no SQLAlchemy, no I/O beyond reading a file."""

from __future__ import annotations

from flowdesk.model.errors import (
    DecisionError,
    ExpressionError,
    FlowdeskError,
    InternalStepError,
    InvalidInput,
    NotFound,
    Problem,
    StepConfigError,
    StepError,
    StepTimeout,
    StoreError,
    TemplateError,
    UnknownStepType,
    WorkflowFileError,
    WorkflowInvalid,
)
from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.run import AttemptRecord, RunSnapshot, StepRunSnapshot, WorkflowInfo
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.workflow import (
    Edge,
    Node,
    NodeData,
    Position,
    RetryPolicy,
    RunSettings,
    Workflow,
)

__all__ = [
    "AttemptRecord",
    "DecisionError",
    "Edge",
    "EventType",
    "ExpressionError",
    "FlowdeskError",
    "InternalStepError",
    "InvalidInput",
    "Node",
    "NodeData",
    "NotFound",
    "Position",
    "Problem",
    "RetryPolicy",
    "RunEvent",
    "RunSettings",
    "RunSnapshot",
    "RunStatus",
    "StepConfigError",
    "StepError",
    "StepRunSnapshot",
    "StepStatus",
    "StepTimeout",
    "StoreError",
    "TemplateError",
    "UnknownStepType",
    "Workflow",
    "WorkflowFileError",
    "WorkflowInfo",
    "WorkflowInvalid",
]
