"""What the engine needs from a store. ``flowdesk.store.Store`` implements it; the engine
never imports the store, so it can be wired to any implementation."""

from __future__ import annotations

from typing import Any, Protocol

from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow

__all__ = ["RunStore"]


class RunStore(Protocol):
    def create_run(
        self,
        workflow: Workflow,
        input: Any,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
    ) -> tuple[RunSnapshot, bool]: ...

    def get_run(self, run_id: str, *, steps: bool = True) -> RunSnapshot: ...

    def run_status(self, run_id: str) -> RunStatus: ...

    def last_seq(self, run_id: str) -> int: ...

    def write(
        self,
        run_id: str,
        run_fields: dict[str, Any],
        step_fields: dict[str, dict[str, Any]],
        events: list[RunEvent],
    ) -> None: ...

    def get_workflow(self, name: str) -> tuple[Workflow, int]: ...

    def workflow_of_run(self, run_id: str) -> tuple[Workflow, int] | None: ...

    def replace_run_definition(self, run_id: str, workflow: Workflow,
                               version: int | None) -> None: ...

    def claim_run(self, run_id: str, owner: str, lease_seconds: float) -> bool: ...

    def release_run(self, run_id: str, owner: str) -> None: ...

    def is_owned(self, run_id: str) -> bool: ...

    def get_events(self, run_id: str, after_seq: int = 0) -> list[RunEvent]: ...

    def cancel_requested(self, run_id: str) -> str | None: ...

    def request_cancel(self, run_id: str, reason: str) -> None: ...

    def consume_external_event(
        self, name: str, key: str | None, run_id: str, step_id: str
    ) -> dict[str, Any] | None: ...

    def waiting_steps(
        self, run_id: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]: ...

    def record_decision(self, run_id: str, step_id: str, decision: dict[str, Any]) -> None: ...

    def deliver_event(
        self, name: str, key: str | None, data: Any, keep_seconds: float | None = None
    ) -> list[tuple[str, str]]: ...

    def resumable_runs(self) -> list[str]: ...
