"""The engine: starts, executes and carries on runs against a store.

One ``Engine`` lives as long as the process that runs workflows (the CLI command, the desktop
app). It owns the event bus and the shared services, validates a workflow before starting it,
and claims a run before executing it so that two processes never execute the same run.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import time
import uuid
from typing import Any, Literal

from flowdesk.engine.bus import EventBus
from flowdesk.engine.executor import RunExecutor
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.groupwrite import FinalWrites
from flowdesk.engine.inputs import check_input
from flowdesk.engine.parts import ExecutorSettings, RunParts
from flowdesk.engine.persistence import RunStore
from flowdesk.engine.registry import StepRegistry
from flowdesk.engine.services import Services
from flowdesk.engine.validation import check
from flowdesk.model.errors import FlowdeskError, InvalidInput, NotFound, StepError
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
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
        registry: StepRegistry,
        *,
        services: Services | None = None,
        max_concurrency: int | None = None,
        poll_interval: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.services = services or Services()
        self.services.run_child = self._run_child
        self.services.registry = registry
        self.services.store = store
        self._active: dict[str, RunExecutor] = {}
        self.bus = EventBus()
        self.max_concurrency = max_concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.owner = process_owner_id()
        self.shutting_down = False  # set on a clean shutdown: runs stay resumable
        self.final_writes = FinalWrites(store)

    def start(
        self,
        workflow: Workflow,
        input: Any = None,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
        queue: bool = False,
    ) -> tuple[RunSnapshot, bool]:
        """Validate and record a new pending run; return it and whether it was created
        (False: the idempotency key was used before and that run is returned). The run is
        this process's to execute (its lease starts now), or with ``queue`` nobody's yet:
        any worker on the database may claim it (``flowdesk serve``'s queue)."""
        input = self.admit(workflow, input)
        return self.store.create_run(
            workflow,
            input,
            workflow_version=workflow_version,
            idempotency_key=idempotency_key,
            parent_run_id=parent_run_id,
            parent_step_id=parent_step_id,
            owner=None if queue else self.owner,
            lease_until=None if queue else time.time() + self.lease_seconds,
        )

    def admit(self, workflow: Workflow, input: Any, *, checked: bool = False) -> Any:
        """Validate a run about to be recorded — the workflow (unless the caller ``checked``
        this very object already) and the input against its schema; the input to record."""
        if not checked:
            check(workflow, self.registry)
        input = input if input is not None else {}
        problems = check_input(workflow.input_schema, input)
        if problems:
            raise InvalidInput(problems)
        return input

    async def execute(self, run_id: str, *, fresh: RunSnapshot | None = None,
                      graph: WorkflowGraph | None = None) -> RunSnapshot:
        """Carry a run on in this process until it completes, fails, is cancelled or pauses;
        return it as committed.

        ``fresh``: a pending run this engine has just recorded already claimed by its
        ``owner`` (``flowdesk.store.intake``), so it is neither read back nor claimed again;
        ``graph``: its definition, validated, as a graph (shared by the runs of a webhook
        route, not parsed again)."""
        executor = await self._execute(run_id, fresh, graph)
        return self.store.get_run(run_id) if executor is None else executor.snapshot()

    async def carry_on(self, run_id: str, *, fresh: RunSnapshot | None = None,
                       graph: WorkflowGraph | None = None) -> None:
        """``execute`` for a caller that does not look at the result (a server going on
        with a run): the same, without building the run's snapshot at the end."""
        await self._execute(run_id, fresh, graph)

    async def _execute(self, run_id: str, fresh: RunSnapshot | None,
                       graph: WorkflowGraph | None) -> RunExecutor | None:
        """The executor that carried the run on (None: it had ended already)."""
        if fresh is None:
            status = self.store.run_status(run_id)
            if status.is_terminal:
                return None
            if self.is_active(run_id):  # e.g. taken from the queue and resumed at once
                raise RunClaimed(f"run {run_id[:8]} is already being executed by this "
                                 "process")
            if not self.store.claim_run(run_id, self.owner, self.lease_seconds):
                raise RunClaimed(f"run {run_id[:8]} is being executed by another process")
        executor: RunExecutor | None = None
        try:
            # a run that never started has every step pending: no need to read them back
            run = fresh if fresh is not None else self.store.get_run(
                run_id, steps=status is not RunStatus.PENDING)
            executor = RunExecutor(self._parts(), run, new=fresh is not None, graph=graph)
            await self._drive(executor)
        finally:
            # the last write of a run that ended or paused released it already
            if executor is None or not executor.state.released:
                self.store.release_run(run_id, self.owner)
        return executor

    def _parts(self) -> RunParts:
        """What an executor needs, with this engine's settings as they are now."""
        return RunParts(
            store=self.store, registry=self.registry, bus=self.bus, services=self.services,
            owner=self.owner,
            settings=ExecutorSettings(max_concurrency=self.max_concurrency,
                                      poll_interval=self.poll_interval,
                                      lease_seconds=self.lease_seconds),
            shutting_down=lambda: self.shutting_down, final_writes=self.final_writes)

    async def _drive(self, executor: RunExecutor) -> None:
        self._active[executor.run_id] = executor
        try:
            await executor.execute()
        finally:
            self._active.pop(executor.run_id, None)

    def is_active(self, run_id: str) -> bool:
        """True while this engine is executing the run."""
        return run_id in self._active

    # -- the human in the loop ---------------------------------------------------------------
    def decide(self, run_id: str, step_id: str, *, approved: bool, comment: str = "",
               data: Any = None, decided_by: str | None = None) -> None:
        """Record an approval decision (DecisionError if the step is not waiting for one,
        or was decided already). The run goes on when it is next executed; if this engine
        is executing it now, at once."""
        self.store.record_decision(run_id, step_id, {
            "approved": approved, "comment": comment, "data": data,
            "decided_at": time.time(), "decided_by": decided_by or getpass.getuser(),
        })
        self._wake(run_id)

    def send_event(self, name: str, key: str | None = None, data: Any = None) -> list[str]:
        """Deliver an event; returns the ids of the runs it woke (empty: it was kept)."""
        delivered = self.store.deliver_event(name, key, data)
        run_ids = list(dict.fromkeys(run_id for run_id, _ in delivered))
        for run_id in run_ids:
            self._wake(run_id)
        return run_ids

    def _wake(self, run_id: str) -> None:
        executor = self._active.get(run_id)
        if executor is not None:
            executor.wake()

    # -- durability --------------------------------------------------------------------------
    async def resume_all(self) -> list[RunSnapshot]:
        """Carry on every run that needs a process: interrupted ones, and paused ones whose
        decision, event or timeout has come. Runs another live process owns are left alone."""
        results = []
        for run_id in self.store.resumable_runs():
            try:
                results.append(await self.execute(run_id))
            except RunClaimed:
                continue
        return results

    async def retry(self, run_id: str, from_step: str | None = None, *,
                    definition: Literal["current", "original"] = "current") -> RunSnapshot:
        """Run a finished run again as a new attempt: its failed, cancelled and never-run
        steps (and what depends on them), or ``from_step`` and everything downstream of it.
        Completed outputs upstream are reused.

        ``definition="current"`` (the default) runs the workflow as it is saved now, so a
        fix made since is used; the run then records that definition and its version.
        ``"original"`` runs the definition the run last ran. A run from a file has no saved
        workflow: it always uses its own definition (the RUN_RETRIED event says which)."""
        run = self.store.get_run(run_id)
        if not run.status.is_terminal:
            raise FlowdeskError(f"run {run_id[:8]} is {run.status.value}; only a completed, "
                                "failed or cancelled run can be retried")
        used = "original"
        version = run.workflow_version
        if definition == "current":
            try:
                current = self.store.workflow_of_run(run_id)
            except NotFound:
                raise FlowdeskError(
                    f"the workflow of run {run_id[:8]} was deleted; retry it with its "
                    "original definition instead") from None
            if current is not None:
                workflow, version = current
                check(workflow, self.registry)
                used = "current"
        workflow = Workflow.model_validate(run.definition) if used == "original" else workflow
        graph = WorkflowGraph(workflow)
        if from_step is not None:
            if from_step not in {n.id for n in workflow.nodes}:
                raise NotFound(f"run {run_id[:8]} has no step '{from_step}'")
            roots = {from_step}
            reason = f"re-run from step '{from_step}'"
        else:
            if run.status is RunStatus.COMPLETED:
                raise FlowdeskError(f"run {run_id[:8]} completed; use --from STEP to run "
                                    "part of it again")
            roots = {n.id for n in workflow.nodes
                     if n.id not in run.steps or run.steps[n.id].status in (
                         StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.PENDING)}
            reason = "retry of failed steps"
        reason += (f" with the current workflow (version {version})" if used == "current"
                   else " with the original workflow")
        reset = set(roots)
        for root in roots:
            reset |= graph.descendants(root)
        order = [n.id for n in workflow.nodes if n.id in reset]
        if not self.store.claim_run(run_id, self.owner, self.lease_seconds):
            raise RunClaimed(f"run {run_id[:8]} is being executed by another process")
        try:
            if used == "current":
                self.store.replace_run_definition(run_id, workflow, version)
                run = self.store.get_run(run_id)
            executor = RunExecutor(self._parts(), run)
            executor.reset_for_retry(order, reason, definition=used, workflow_version=version)
            await self._drive(executor)
        finally:
            self.store.release_run(run_id, self.owner)
        return self.store.get_run(run_id)

    async def cancel(self, run_id: str, reason: str = "cancelled") -> RunSnapshot:
        """Cancel a run: directly when no live process executes it, else by asking its
        owner (which notices within ``poll_interval``) and waiting for it to stop."""
        run = self.store.get_run(run_id)
        if run.status.is_terminal:
            raise FlowdeskError(f"run {run_id[:8]} is already {run.status.value}")
        executor = self._active.get(run_id)
        if executor is None and self.store.claim_run(run_id, self.owner, self.lease_seconds):
            try:
                await RunExecutor(self._parts(), self.store.get_run(run_id)).cancel_now(reason)
            finally:
                self.store.release_run(run_id, self.owner)
            return self.store.get_run(run_id)
        self.store.request_cancel(run_id, reason)
        self._wake(run_id)
        return await self.follow(run_id)

    async def follow(self, run_id: str, after_seq: int = 0,
                     interval: float = 0.2) -> RunSnapshot:
        """Publish the events another process records for a run, until it stops (ends or
        pauses and is released); then return it."""
        seq = after_seq
        while True:
            for event in self.store.get_events(run_id, after_seq=seq):
                seq = event.seq
                self.bus.publish(event)
            run = self.store.get_run(run_id)
            owner_busy = self.store.is_owned(run_id)
            if not owner_busy and run.status is not RunStatus.RUNNING and \
                    run.status is not RunStatus.PENDING:
                for event in self.store.get_events(run_id, after_seq=seq):
                    self.bus.publish(event)
                return run
            if not owner_busy:
                # nobody owns it any more and it is not finished: carry it on ourselves
                return await self.execute(run_id)
            await asyncio.sleep(interval)

    async def run(self, workflow: Workflow, input: Any = None, **kwargs: Any) -> RunSnapshot:
        run, created = self.start(workflow, input, **kwargs)
        if not created and run.status is not RunStatus.PENDING:
            return run
        return await self.execute(run.id)

    async def _run_child(
        self, workflow_name: str, input: Any, parent_run_id: str, parent_step_id: str, key: str
    ) -> Any:
        try:
            workflow, version = self.store.get_workflow(workflow_name)
        except NotFound:
            # the user's mistake (a typo, a deleted or renamed workflow), not a crash
            raise StepError(f"there is no saved workflow named '{workflow_name}'; choose "
                            "an existing one in this step's settings", retriable=False) from None
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
