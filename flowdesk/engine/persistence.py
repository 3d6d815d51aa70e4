"""What the engine needs from a store, one protocol per aggregate, and ``RunStore`` (all).

Contract: the engine depends on these protocols only, never on ``flowdesk.store``;
``flowdesk.store.Store`` satisfies ``RunStore`` (mypy checks it in ``store/repository.py``),
and any other implementation may be wired in by the composition root.
- ``RunRecords``: runs, their steps and events, and the engine's tick writes.
- ``WorkflowSource``: saved workflows a run or a sub-workflow step refers to.
- ``RunLeases``: which process owns a run, cancel requests, what needs carrying on.
- ``WaitInbox``: decisions and external events for waiting steps.
- ``StepHistory``: a step's newest recorded output and the newest run input (what "test
  one step" falls back on when an upstream step is not pinned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow

__all__ = ["RunLeases", "RunRecords", "RunStore", "StepHistory", "WaitInbox",
           "WorkflowSource"]


class RunRecords(Protocol):
    def create_run(
        self,
        workflow: Workflow,
        input: Any,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
        owner: str | None = None,
        lease_until: float | None = None,
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

    def write_many(
        self,
        ticks: list[tuple[str, dict[str, Any], dict[str, dict[str, Any]], list[RunEvent]]],
    ) -> None: ...

    def get_events(self, run_id: str, after_seq: int = 0) -> list[RunEvent]: ...

    def replace_run_definition(self, run_id: str, workflow: Workflow,
                               version: int | None) -> None: ...


class WorkflowSource(Protocol):
    def get_workflow(self, name: str) -> tuple[Workflow, int]: ...

    def workflow_of_run(self, run_id: str) -> tuple[Workflow, int] | None: ...


class RunLeases(Protocol):
    def claim_run(self, run_id: str, owner: str, lease_seconds: float) -> bool: ...

    def release_run(self, run_id: str, owner: str) -> None: ...

    def is_owned(self, run_id: str) -> bool: ...

    def cancel_requested(self, run_id: str) -> str | None: ...

    def request_cancel(self, run_id: str, reason: str) -> None: ...

    def resumable_runs(self) -> list[str]: ...


class WaitInbox(Protocol):
    def consume_external_event(
        self, name: str, key: str | None, run_id: str, step_id: str
    ) -> dict[str, Any] | None: ...

    def waiting_steps(
        self, run_id: str | None = None, kind: str | None = None
    ) -> Sequence[Mapping[str, Any]]: ...

    def record_decision(self, run_id: str, step_id: str, decision: dict[str, Any]) -> None: ...

    def deliver_event(
        self, name: str, key: str | None, data: Any, keep_seconds: float | None = None
    ) -> list[tuple[str, str]]: ...


class StepHistory(Protocol):
    def last_outputs(self, name: str, step_ids: list[str]) -> dict[str, tuple[str, Any]]: ...

    def last_input(self, name: str) -> tuple[str, Any] | None: ...


class RunStore(RunRecords, WorkflowSource, RunLeases, WaitInbox, StepHistory, Protocol):
    """Everything the engine asks of a store."""
