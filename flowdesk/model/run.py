"""Snapshots of runs and step runs as the store returns them and the CLI prints them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.trusted import trusted

__all__ = ["AttemptRecord", "RunSnapshot", "StepRunSnapshot", "WorkflowInfo",
           "attempt_records"]


class AttemptRecord(BaseModel):
    """One try of a step. ``attempt`` counts tries within one attempt of the run;
    ``run_attempt`` is that attempt of the run (1, then 2 after a retry...)."""

    attempt: int
    run_attempt: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None


_UNSET_TIMES = {"run_attempt": None, "started_at": None, "finished_at": None, "error": None}


def attempt_records(log: Iterable[dict[str, Any]]) -> list[AttemptRecord]:
    """A step's attempt log (as flowdesk records it: dicts without the fields not known yet)
    as records, built without a validation pass."""
    return [trusted(AttemptRecord, {**_UNSET_TIMES, **entry}) for entry in log]


class StepRunSnapshot(BaseModel):
    step_id: str
    status: StepStatus = StepStatus.PENDING
    output: Any = None
    error: str | None = None
    attempts: int = 0
    attempt_log: list[AttemptRecord] = Field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    branch: str | None = None

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at) * 1000


class RunSnapshot(BaseModel):
    id: str
    workflow_name: str
    workflow_id: int | None = None  # the stored workflow it belongs to (None: from a file)
    workflow_version: int | None = None
    status: RunStatus
    input: Any = None
    error: str | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    active_seconds: float | None = None  # executing time, without pauses and idle time
    idempotency_key: str | None = None
    parent_run_id: str | None = None
    parent_step_id: str | None = None
    attempt: int = 1
    definition: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, StepRunSnapshot] = Field(default_factory=dict)

    @property
    def waiting_seconds(self) -> float | None:
        """Time between start and end that the run was not active (paused for a decision,
        or finished and later retried)."""
        if self.active_seconds is None or self.started_at is None or self.finished_at is None:
            return None
        return max(self.finished_at - self.started_at - self.active_seconds, 0.0)

    def to_document(self) -> dict[str, Any]:
        """Everything about the run (``flowdesk show --json`` and the HTTP API): the ``--json``
        shape of DESIGN.md plus its input, timestamps, the workflow version it ran, and each
        step's input (its rendered config), attempts with their errors, and timing."""
        doc = self.to_cli_json()
        doc.update(workflow_version=self.workflow_version, input=self.input,
                   created_at=self.created_at, started_at=self.started_at,
                   finished_at=self.finished_at, idempotency_key=self.idempotency_key)
        for sid, step in self.steps.items():
            doc["steps"][sid].update(
                input=step.state.get("input"),
                attempt_log=[a.model_dump(mode="json") for a in step.attempt_log],
                started_at=step.started_at, finished_at=step.finished_at,
                duration_ms=step.duration_ms, branch=step.branch)
        return doc

    def to_cli_json(self) -> dict[str, Any]:
        """The ``--json`` shape of DESIGN.md."""
        return {
            "id": self.id,
            "workflow": self.workflow_name,
            "status": self.status.value,
            "error": self.error,
            "steps": {
                sid: {
                    "status": s.status.value,
                    "output": s.output,
                    "error": s.error,
                    "attempts": s.attempts,
                }
                for sid, s in self.steps.items()
            },
        }


class WorkflowInfo(BaseModel):
    """A stored workflow as listed by the library (without its definition)."""

    name: str
    description: str = ""
    version: int = 1
    created_at: float
    updated_at: float
