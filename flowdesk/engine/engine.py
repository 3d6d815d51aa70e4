"""The engine: starts, executes and carries on runs against a store.

One ``Engine`` lives as long as the process that runs workflows (the CLI command, the desktop
app). It owns the event bus and the shared services, validates a workflow before starting it,
and claims a run before executing it so that two processes never execute the same run.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from flowdesk.engine.bus import EventBus
from flowdesk.engine.executor import RunExecutor
from flowdesk.engine.inputs import check_input
from flowdesk.engine.persistence import RunStore
from flowdesk.engine.registry import StepRegistry
from flowdesk.engine.services import Services
from flowdesk.engine.validation import check
from flowdesk.model.errors import FlowdeskError, InvalidInput, StepError
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow

__all__ = ["Engine", "RunClaimed", "process_owner_id"]


class RunClaimed(FlowdeskError):
    """Another live process owns the run."""


def process_owner_id() -> str:
    """``host:pid:random``: the host and pid let others tell whether the owner is alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Engine:
    def __init__(
        self,
        store: RunStore,
        registry: StepRegistry | None = None,
        *,
        services: Services | None = None,
        max_concurrency: int | None = None,
        poll_interval: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        if registry is None:
            from flowdesk.steps import default_registry

            registry = default_registry()
        self.store = store
        self.registry = registry
        self.services = services or Services()
        self.services.run_child = self._run_child
        self.services.registry = registry
        self.bus = EventBus()
        self.max_concurrency = max_concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.owner = process_owner_id()

    def start(
        self,
        workflow: Workflow,
        input: Any = None,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
    ) -> tuple[RunSnapshot, bool]:
        """Validate and record a new pending run; return it and whether it was created
        (False: the idempotency key was used before and that run is returned)."""
        check(workflow, self.registry)
        input = input if input is not None else {}
        problems = check_input(workflow.input_schema, input)
        if problems:
            raise InvalidInput(problems)
        return self.store.create_run(
            workflow,
            input,
            workflow_version=workflow_version,
            idempotency_key=idempotency_key,
            parent_run_id=parent_run_id,
            parent_step_id=parent_step_id,
        )

    async def execute(self, run_id: str) -> RunSnapshot:
        """Carry a run on in this process until it completes, fails, is cancelled or pauses."""
        run = self.store.get_run(run_id)
        if run.status.is_terminal:
            return run
        if not self.store.claim_run(run_id, self.owner, self.lease_seconds):
            raise RunClaimed(f"run {run_id} is being executed by another process")
        try:
            await RunExecutor(self, run).execute()
        finally:
            self.store.release_run(run_id, self.owner)
        return self.store.get_run(run_id)

    async def run(self, workflow: Workflow, input: Any = None, **kwargs: Any) -> RunSnapshot:
        run, created = self.start(workflow, input, **kwargs)
        if not created and run.status is not RunStatus.PENDING:
            return run
        return await self.execute(run.id)

    async def _run_child(
        self, workflow_name: str, input: Any, parent_run_id: str, parent_step_id: str, key: str
    ) -> Any:
        workflow, version = self.store.get_workflow(workflow_name)
        child, _ = self.start(workflow, input, workflow_version=version, idempotency_key=key,
                              parent_run_id=parent_run_id, parent_step_id=parent_step_id)
        if not child.status.is_terminal:
            child = await self.execute(child.id)
        if child.status is RunStatus.COMPLETED:
            return workflow_outputs(child)
        if child.status is RunStatus.PAUSED:
            raise StepError(f"child run {child.id} of '{workflow_name}' paused waiting; "
                            "waits are not supported inside a sub-workflow yet")
        raise StepError(f"child run {child.id} of '{workflow_name}' {child.status.value}: "
                        f"{child.error}")

    async def aclose(self) -> None:
        await self.services.aclose()


def workflow_outputs(run: RunSnapshot) -> dict[str, Any]:
    """A finished run's result: the outputs of its completed sink steps, by step id."""
    workflow = Workflow.model_validate(run.definition)
    sources = {e.source for e in workflow.edges}
    return {
        node.id: run.steps[node.id].output
        for node in workflow.nodes
        if node.id not in sources and node.id in run.steps
        and run.steps[node.id].status.value == "completed"
    }
