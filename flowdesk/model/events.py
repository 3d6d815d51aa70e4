"""Run events: what the engine records, in order, and then publishes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["EventType", "RunEvent"]


class EventType(StrEnum):
    RUN_STARTED = "run.started"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"
    RUN_PAUSED = "run.paused"
    RUN_RESUMED = "run.resumed"
    RUN_CANCELLED = "run.cancelled"
    RUN_RETRIED = "run.retried"
    STEP_STARTED = "step.started"
    STEP_COMPLETED = "step.completed"
    STEP_FAILED = "step.failed"
    STEP_SKIPPED = "step.skipped"
    STEP_WAITING = "step.waiting"
    STEP_RETRYING = "step.retrying"
    STEP_CANCELLED = "step.cancelled"
    STEP_PROGRESS = "step.progress"
    CONTEXT_UPDATED = "context.updated"


class RunEvent(BaseModel):
    """One persisted event. ``seq`` counts from 1 within a run, without gaps."""

    run_id: str
    seq: int
    type: EventType
    step_id: str | None = None
    ts: float
    payload: dict[str, Any] = Field(default_factory=dict)
