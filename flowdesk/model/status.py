"""Run and step statuses: plain enums with their terminal sets (Prefect's shape)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RunStatus", "StepStatus"]


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _RUN_TERMINAL


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        """A finished step no longer holds back the steps downstream of it."""
        return self in _STEP_FINISHED


_RUN_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
_STEP_FINISHED = frozenset(
    {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)
