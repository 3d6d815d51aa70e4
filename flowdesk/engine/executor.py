"""Executes one run of a workflow snapshot, durably: the scheduling loop.

Contract:
- The executor works on an immutable snapshot of the definition (the run row's copy); editing
  the workflow during a run cannot change it. It receives its collaborators as ``RunParts``
  (store, registry, bus, services, owner id, settings, clocks), never the engine.
- Each scheduling tick starts ready steps (up to the run's max concurrency; pure steps run
  inline, up to ``INLINE_STEPS_PER_TICK`` per tick), commits what changed in one transaction
  (``RunState.flush``: events are published only after their commit), then waits for a step
  to finish, a wake-up (a decision or event for this run) or the poll timer.
- On each poll it renews its lease, honours a cancel request and takes in decisions, events
  and expired waits recorded elsewhere (``flowdesk.engine.waits``).
- A failed step fails the run (in-flight steps are cancelled, pending ones stay pending so a
  retry can run them) unless it has ``continue_on_error`` or ``on_error: "error_output"``
  (then its ``error`` port takes the failure); a whole-run timeout fails it too.
- Started on a run that was ``running`` (its process died), completed steps keep their
  outputs and in-flight steps run again from their next attempt. Cancelled because the
  process shuts down cleanly, it leaves the run ``running`` so that the next start resumes it.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from typing import Any

from flowdesk.engine.context import StepContext
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.parts import RunParts
from flowdesk.engine.retries import run_with_retries
from flowdesk.engine.runstate import EVENT_PAYLOAD_LIMIT, RunState, truncate_for_event
from flowdesk.engine.stepexec import run_handler
from flowdesk.engine.waits import recheck_event_waits, refresh_waits, resolve_wait
from flowdesk.model.errors import InternalStepError, StepError
from flowdesk.model.events import EventType
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus, StepStatus

__all__ = ["EVENT_PAYLOAD_LIMIT", "INLINE_STEPS_PER_TICK", "RunExecutor", "truncate_for_event"]

# how many pure steps may run inline in one tick before the loop commits and yields
INLINE_STEPS_PER_TICK = 64


async def _resume(coro: Any) -> Any:
    """Finish a coroutine that was started by hand and turned out to await."""
    return await coro


class RunExecutor:
    def __init__(self, parts: RunParts, run: RunSnapshot, *, new: bool = False,
                 graph: WorkflowGraph | None = None) -> None:
        self.parts = parts
        self.state = RunState(parts, run, new=new, graph=graph)
        self.run_id = run.id
        self.max_concurrency = (parts.settings.max_concurrency
                                or self.state.workflow.settings.max_concurrency)
        self.running: dict[str, asyncio.Task[Any]] = {}
        self._done: deque[str] = deque()  # finished step tasks, in completion order
        self._tick: asyncio.Future[None] | None = None  # resolved when there is work
        self._woken = False
        self._last_renew = parts.monotonic()

    # -- running steps -----------------------------------------------------------------------
    def _start_ready(self) -> None:
        run = self.state
        ready, types = run.ready, run.types
        inline_budget = INLINE_STEPS_PER_TICK
        while ready and len(self.running) < self.max_concurrency and run.fatal is None:
            node_id = ready.popleft()
            if inline_budget <= 0 and types[node_id].pure and self._inlinable(node_id):
                # this tick's share of inline work is done: commit it, run the rest next tick
                ready.appendleft(node_id)
                break
            run.start_step(node_id)
            if inline_budget > 0 and self._run_inline(node_id):
                inline_budget -= 1
                continue
            task = asyncio.get_running_loop().create_task(self._run_step(node_id))
            task.add_done_callback(functools.partial(self._step_done, node_id))
            self.running[node_id] = task

    def _inlinable(self, node_id: str) -> bool:
        node = self.state.nodes[node_id]
        return (self.state.types[node_id].pure and node.data.retry is None
                and not node.data.timeout_seconds)

    def _run_inline(self, node_id: str) -> bool:
        """Run a pure step right here, within this tick. False if it must be a task."""
        if not self._inlinable(node_id):
            return False
        run = self.state
        ctx = self._make_ctx(node_id, run.steps[node_id].attempts)
        coro = run_handler(run.types[node_id], run.nodes[node_id].data.config, ctx, None,
                           inline=True)
        try:
            coro.send(None)
        except StopIteration as done:
            run.complete(node_id, done.value, None)
            return True
        except (StepError, InternalStepError) as error:
            run.complete(node_id, None, error)
            return True
        # it awaited after all: not pure; let a task finish it (nothing ran twice)
        task = asyncio.get_running_loop().create_task(_resume(coro))
        task.add_done_callback(functools.partial(self._step_done, node_id))
        self.running[node_id] = task
        return True

    def _step_done(self, node_id: str, _task: object = None) -> None:
        self._done.append(node_id)
        self._signal()

    def _signal(self) -> None:
        if self._tick is not None and not self._tick.done():
            self._tick.set_result(None)

    def _make_ctx(self, node_id: str, attempt: int) -> StepContext:
        run = self.state
        state = run.steps[node_id]

        def checkpoint(data: dict[str, Any]) -> None:
            run.set_step(node_id, state=dict(data))
            run.flush()

        def progress(payload: dict[str, Any]) -> None:
            run.emit(EventType.STEP_PROGRESS, node_id, **payload)
            run.flush()

        def record_input(config: Any) -> None:
            # what the step was given, rendered; kept with the step (shown in the app)
            rendered = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            run.set_step(node_id, state={**state.state, "input": truncate_for_event(rendered)})

        return StepContext(
            run_id=self.run_id,
            step_id=node_id,
            attempt=attempt,
            scope=run.scope,
            services=self.parts.services,
            state=state.state,
            checkpoint_cb=checkpoint,
            progress_cb=progress,
            input_cb=record_input,
        )

    async def _run_step(self, node_id: str) -> Any:
        return await run_with_retries(self.state, node_id,
                                      lambda attempt: self._make_ctx(node_id, attempt))

    def _collect(self, node_id: str, task: asyncio.Task[Any]) -> None:
        del self.running[node_id]
        error = task.exception()
        self.state.complete(node_id, None if error is not None else task.result(), error)

    async def _cancel_running(self, reason: str) -> None:
        tasks = dict(self.running)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for node_id in tasks:
            del self.running[node_id]
            self.state.cancel_step(node_id, reason)

    # -- the run -----------------------------------------------------------------------------
    def _begin(self) -> None:
        run = self.state
        if run.retry_info is not None:
            return  # reset_for_retry already recorded the new attempt
        if run.status is RunStatus.PENDING:
            run.begin()
            return
        now = run.clock()
        interrupted = run.requeue_interrupted()
        resolved = [sid for sid in run.steps if resolve_wait(run, sid, now)]
        run.resumed(interrupted, resolved)

    def reset_for_retry(self, step_ids: list[str], reason: str, *,
                        definition: str = "original",
                        workflow_version: int | None = None) -> None:
        """Make ``step_ids`` run again as a new attempt of this (finished) run."""
        self.state.reset_for_retry(step_ids, reason, definition=definition,
                                   workflow_version=workflow_version)

    async def cancel_now(self, reason: str) -> RunStatus:
        """Cancel a run that no live process is executing (paused, pending, or orphaned)."""
        run = self.state
        for sid, state in run.steps.items():
            if state.status in (StepStatus.RUNNING, StepStatus.WAITING):
                run.cancel_step(sid, reason)
        return run.finish(RunStatus.CANCELLED, reason)

    def wake(self) -> None:
        self._woken = True
        self._signal()

    def _poll(self) -> str | None:
        """Look at what other processes changed: a cancel request, decisions and events for
        waiting steps, expired waits. Renews our lease. Returns a cancel reason, if any."""
        parts = self.parts
        now_m = parts.monotonic()
        if now_m - self._last_renew > parts.settings.lease_seconds / 3:
            self._last_renew = now_m
            parts.store.claim_run(self.run_id, parts.owner, parts.settings.lease_seconds)
        reason = parts.store.cancel_requested(self.run_id)
        if reason is not None:
            return reason
        refresh_waits(self.state)
        return None

    async def execute(self) -> RunStatus:
        run = self.state
        run.session_start = run.clock()
        self._begin()
        run.init_graph()
        loop = asyncio.get_running_loop()
        poll = self.parts.settings.poll_interval
        timers: list[asyncio.TimerHandle] = []

        def poll_due() -> None:
            self._woken = True  # time to look at the store (cancel, decisions, lease)
            self._signal()
            timers.append(loop.call_later(poll, poll_due))

        timers.append(loop.call_later(poll, poll_due))
        deadline = run.deadline()
        if deadline is not None:
            timers.append(loop.call_at(loop.time() + max(deadline - run.clock(), 0),
                                       self._signal))
        try:
            while True:
                self._start_ready()
                if (self.running or run.ready or run.new_event_waits
                        or run.fatal is not None):
                    run.flush()
                # else the run ends or pauses now: its last write (``finish``) carries this
                # tick's changes too, one transaction, events still published after it
                if run.new_event_waits:
                    recheck_event_waits(run)
                    if run.ready:
                        continue
                if run.fatal is not None or not (self.running or run.ready):
                    break
                if run.ready and not self.running:
                    await asyncio.sleep(0)  # let the UI and others in between ticks
                    continue
                if not self._done and not self._woken:
                    self._tick = loop.create_future()
                    await self._tick
                    self._tick = None
                while self._done:
                    node_id = self._done.popleft()
                    task = self.running.get(node_id)
                    if task is not None and task.done():
                        self._collect(node_id, task)
                if run.fatal is None and deadline is not None and run.clock() >= deadline:
                    run.fatal = f"run timed out after {run.workflow.settings.timeout_seconds:g} s"
                if run.fatal is None and self._woken:
                    self._woken = False
                    reason = self._poll()
                    if reason is not None:
                        await self._cancel_running(reason)
                        return run.finish(RunStatus.CANCELLED, reason)
            if run.fatal is not None:
                await self._cancel_running("run failed")
                return run.finish(RunStatus.FAILED, run.fatal)
        except asyncio.CancelledError:
            if self.parts.shutting_down():
                # the process is stopping: leave the run "running" so the next start
                # resumes it (interrupted steps run again), rather than cancelling it
                for task in self.running.values():
                    task.cancel()
                await asyncio.gather(*self.running.values(), return_exceptions=True)
                run.flush()
                raise
            await self._cancel_running("run cancelled")
            run.finish(RunStatus.CANCELLED, "run cancelled")
            raise
        finally:
            for timer in timers:
                timer.cancel()
            self._tick = None
        if any(s.status is StepStatus.WAITING for s in run.steps.values()):
            return await self._end(RunStatus.PAUSED)
        return await self._end(RunStatus.COMPLETED)

    async def _end(self, status: RunStatus) -> RunStatus:
        """The run completes or pauses: its last write joins those of the runs ending in
        the same loop turn (``FinalWrites``), its events are published after that commit."""
        run = self.state
        writes = self.parts.final_writes
        if writes is None:
            return run.finish(status, None)
        run.record_finish(status, None)
        await writes.commit(run)
        run.released = True
        return status

    def snapshot(self) -> RunSnapshot:
        """The run as committed, built from memory (what ``store.get_run`` would return)."""
        return self.state.snapshot()
