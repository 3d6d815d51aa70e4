"""The exception hierarchy of flowdesk, and the ``Problem`` a validator reports.

    FlowdeskError
    ├── WorkflowFileError      a file that is not a readable workflow (JSON or shape)
    ├── WorkflowInvalid        a workflow with validation problems (all of them, each located)
    ├── UnknownStepType        a node type no registry knows
    ├── InvalidInput           a run input that does not fit the workflow's input_schema
    ├── NotFound               an unknown run, workflow or step
    ├── StoreError             the database file is locked, damaged or not ours
    ├── DecisionError          a decision/event that cannot apply (step not waiting, twice...)
    ├── InternalStepError      a handler crashed (a bug of flowdesk or a plugin); never retried
    └── StepError              a step failed; ``retriable`` says if another attempt may help
        ├── StepConfigError    the step's config is wrong (never retried)
        ├── TemplateError      a template refers to a missing path or is malformed
        ├── ExpressionError    an expression is malformed, unsafe or failed
        └── StepTimeout        the step ran past its time limit (retried)

``StepError`` is "the user's step failed"; any other exception escaping a handler is a bug
of flowdesk or of a plugin: the engine turns it into an ``InternalStepError`` ("internal
error: <type>: <message>"), which is not a ``StepError``, and records the step as failed
with that message, never retrying it. ``StepFailure`` is either of the two.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "DecisionError",
    "ExpressionError",
    "FlowdeskError",
    "InternalStepError",
    "InvalidInput",
    "NotFound",
    "Problem",
    "StepConfigError",
    "StepError",
    "StepFailure",
    "StepTimeout",
    "StoreError",
    "TemplateError",
    "UnknownStepType",
    "WorkflowFileError",
    "WorkflowInvalid",
]


class Problem(BaseModel):
    """One validation finding, located on a node, an edge, a field or the workflow."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None

    def where(self) -> str:
        parts = []
        if self.node_id is not None:
            parts.append(f"node '{self.node_id}'")
        if self.edge_id is not None:
            parts.append(f"edge '{self.edge_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts) or "workflow"

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


class FlowdeskError(Exception):
    """Base of every error flowdesk raises on purpose."""


class WorkflowFileError(FlowdeskError):
    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class WorkflowInvalid(FlowdeskError):
    def __init__(self, problems: list[Problem], name: str = "workflow") -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{name} is invalid ({len(problems)} problem(s)):\n{lines}")
        self.problems = problems


class UnknownStepType(FlowdeskError):
    def __init__(self, type_name: str, known: list[str]) -> None:
        super().__init__(f"unknown step type '{type_name}' (known: {', '.join(sorted(known))})")
        self.type_name = type_name


class InvalidInput(FlowdeskError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("the run input does not fit the workflow's input_schema:\n"
                         + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


class NotFound(FlowdeskError):
    pass


class StoreError(FlowdeskError):
    pass


class DecisionError(FlowdeskError):
    pass


class StepError(FlowdeskError):
    """A step failed. ``retriable`` errors may succeed on another attempt."""

    retriable: bool = False

    def __init__(self, message: str, *, retriable: bool | None = None, data: Any = None) -> None:
        super().__init__(message)
        if retriable is not None:
            self.retriable = retriable
        self.data = data

    @property
    def message(self) -> str:
        return str(self)


class StepConfigError(StepError):
    retriable = False


class TemplateError(StepError):
    retriable = False


class ExpressionError(StepError):
    retriable = False


class StepTimeout(StepError):
    retriable = True


class InternalStepError(FlowdeskError):
    """A handler raised something that is not a StepError: a bug, reported with its type.
    Not a ``StepError``: "the engine or a plugin crashed" is not "the step failed"."""

    retriable = False

    @property
    def message(self) -> str:
        return str(self)


# what a step attempt may end with, besides its output: its own failure or a crash
StepFailure = StepError | InternalStepError
