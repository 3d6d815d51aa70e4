"""Executes one run of a workflow snapshot, durably.

Contract:
- The executor works on an immutable snapshot of the definition (the run row's copy); editing
  the workflow during a run cannot change it.
- Every state change is buffered with its event and committed in one transaction per
  scheduling tick; events are published only after their commit. Event ``seq`` numbers count
  from the run's last persisted event, without gaps.
- A step runs when all its upstream steps are finished and at least one incoming edge is live;
  when all incoming edges are dead it is skipped (and so on downstream).
- A failed step fails the run (in-flight steps are cancelled, pending ones stay pending so a
  retry can run them) unless it has ``continue_on_error``.
- Started on a run that was ``running`` (its process died), completed steps keep their
  outputs and in-flight steps run again from their next attempt.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.registry import StepType
from flowdesk.engine.rules import edge_live
from flowdesk.engine.stepexec import run_attempts, run_handler
from flowdesk.model.errors import StepError
from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.run import AttemptRecord, RunSnapshot, StepRunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.workflow import Edge, Node, Workflow

if TYPE_CHECKING:
    from flowdesk.engine.engine import Engine

__all__ = ["EVENT_PAYLOAD_LIMIT", "INLINE_STEPS_PER_TICK", "RunExecutor", "truncate_for_event"]

EVENT_PAYLOAD_LIMIT = 16 * 1024
# how many pure steps may run inline in one tick before the loop commits and yields
INLINE_STEPS_PER_TICK = 64


async def _resume(coro: Any) -> Any:
    """Finish a coroutine that was started by hand and turned out to await."""
    return await coro


def truncate_for_event(value: Any, limit: int = EVENT_PAYLOAD_LIMIT) -> Any:
    """Small values pass unchanged; big ones become a preview (the store keeps them whole)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= limit:
        return value
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return value
    return {"truncated": True, "size": len(text), "preview": text[:limit]}


@dataclass
class _StepState:
    status: StepStatus = StepStatus.PENDING
    output: Any = None
    error: str | None = None
    attempts: int = 0
    attempt_log: list[dict[str, Any]] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    branch: str | None = None


class RunExecutor:
    def __init__(self, engine: Engine, run: RunSnapshot) -> None:
        self.engine = engine
        self.store = engine.store
        self.run_id = run.id
        self.run = run
        self.workflow = Workflow.model_validate(run.definition)
        self.graph = WorkflowGraph(self.workflow)
        self.nodes: dict[str, Node] = {n.id: n for n in self.workflow.nodes}
        self.types: dict[str, StepType] = {
            n.id: engine.registry.get(n.type) for n in self.workflow.nodes
        }
        self.max_concurrency = engine.max_concurrency or self.workflow.settings.max_concurrency
        self.steps: dict[str, _StepState] = {}
        for node_id in self.nodes:
            snap = run.steps.get(node_id)
            self.steps[node_id] = (
                _StepState(
                    status=snap.status,
                    output=snap.output,
                    error=snap.error,
                    attempts=snap.attempts,
                    attempt_log=[a.model_dump() for a in snap.attempt_log],
                    started_at=snap.started_at,
                    finished_at=snap.finished_at,
                    state=dict(snap.state),
                    branch=snap.branch,
                )
                if snap is not None
                else _StepState()
            )
        self.scope_steps: dict[str, dict[str, Any]] = {}
        self.scope: dict[str, Any] = {
            "input": run.input if run.input is not None else {},
            "steps": self.scope_steps,
            "run": {"id": run.id, "workflow": run.workflow_name},
            "secrets": engine.services.secrets,
        }
        self.seq = self.store.last_seq(run.id)
        self._run_fields: dict[str, Any] = {}
        self._last_run_fields: dict[str, Any] = {}
        self._step_fields: dict[str, dict[str, Any]] = {}
        self._events: list[RunEvent] = []
        self.running: dict[str, asyncio.Task[Any]] = {}
        self.ready: deque[str] = deque()
        self.remaining: dict[str, int] = {}
        self.fatal: str | None = None
        self.status = run.status
        self._done: deque[str] = deque()  # finished step tasks, in completion order
        self._tick: asyncio.Future[None] | None = None  # resolved when there is work
        self._woken = False
        self._new_event_waits: list[str] = []
        self._last_poll = time.monotonic()
        self._last_renew = time.monotonic()
        self._retry_info: dict[str, Any] | None = None
        self.started_at = run.started_at
        self.run_attempt = run.attempt  # which attempt of the run (a retry is the next one)
        self._session_start = time.time()  # this process's share of the run's active time

    # -- buffering ---------------------------------------------------------------------------
    def _emit(self, type_: EventType, step_id: str | None = None, **payload: Any) -> None:
        self.seq += 1
        if self.engine.services.secrets.revealed:
            payload = self.engine.services.secrets.redact(payload)
        # built from trusted values on the hot path: no validation pass
        self._events.append(
            RunEvent.model_construct(run_id=self.run_id, seq=self.seq, type=type_,
                                     step_id=step_id, ts=time.time(), payload=payload)
        )

    def _set_step(self, step_id: str, **fields: Any) -> None:
        secrets = self.engine.services.secrets
        if secrets.revealed:  # a secret was used: mask it in everything recorded
            for key in ("output", "error", "state", "attempt_log"):
                if key in fields:
                    fields[key] = secrets.redact(fields[key])
        state = self.steps[step_id]
        for key, value in fields.items():
            setattr(state, key, value)
        self._step_fields.setdefault(step_id, {}).update(fields)

    def _set_run(self, **fields: Any) -> None:
        self._run_fields.update(fields)
        self._last_run_fields.update(fields)
        if "status" in fields:
            self.status = fields["status"]

    def flush(self) -> None:
        """Commit buffered changes in one transaction, then publish their events."""
        if not (self._run_fields or self._step_fields or self._events):
            return
        events, self._events = self._events, []
        self.store.write(self.run_id, self._run_fields, self._step_fields, events)
        self._run_fields, self._step_fields = {}, {}
        for event in events:
            self.engine.bus.publish(event)

    # -- graph bookkeeping -------------------------------------------------------------------
    def _edge_live(self, edge: Edge) -> bool:
        source = self.steps[edge.source]
        return edge_live(source.status, source.branch, edge.source_handle,
                         branching=bool(self.types[edge.source].catalog.ports),
                         continue_on_error=self.nodes[edge.source].data.continue_on_error)

    def _scope_step(self, step_id: str) -> None:
        state = self.steps[step_id]
        self.scope_steps[step_id] = {"output": state.output, "status": state.status.value}

    def _init_graph_state(self) -> None:
        for node_id, state in self.steps.items():
            if state.status.is_finished:
                self._scope_step(node_id)
        for node_id, state in self.steps.items():
            if state.status.is_finished or state.status is StepStatus.WAITING:
                continue
            upstream = {e.source for e in self.graph.incoming[node_id]}
            self.remaining[node_id] = sum(
                1 for u in upstream if not self.steps[u].status.is_finished
            )
        for node_id in self.graph.topological_order():
            if self.remaining.get(node_id) == 0:
                self._consider(node_id)

    def _consider(self, node_id: str) -> None:
        """All upstream steps of ``node_id`` are finished: run it or skip it."""
        self.remaining.pop(node_id, None)
        incoming = self.graph.incoming[node_id]
        if not incoming or any(self._edge_live(e) for e in incoming):
            self.ready.append(node_id)
            return
        now = time.time()
        self._set_step(node_id, status=StepStatus.SKIPPED, started_at=None, finished_at=now)
        self._emit(EventType.STEP_SKIPPED, node_id, reason="no live incoming edge")
        self._finished(node_id)

    def _finished(self, node_id: str) -> None:
        self.remaining.pop(node_id, None)
        self._scope_step(node_id)
        for target in {e.target for e in self.graph.outgoing[node_id]}:
            if target not in self.remaining:
                continue
            self.remaining[target] -= 1
            if self.remaining[target] == 0:
                self._consider(target)

    # -- running steps -----------------------------------------------------------------------
    def _start_ready(self) -> None:
        inline_budget = INLINE_STEPS_PER_TICK
        while self.ready and len(self.running) < self.max_concurrency and self.fatal is None:
            node_id = self.ready.popleft()
            if inline_budget <= 0 and self.types[node_id].pure and self._inlinable(node_id):
                # this tick's share of inline work is done: commit it, run the rest next tick
                self.ready.appendleft(node_id)
                break
            state = self.steps[node_id]
            now = time.time()
            attempt = state.attempts + 1
            started_at = state.state.get("first_started_at") or now  # resuming a wait
            # the attempt is recorded in the same commit as step.started, so a crash
            # mid-step still counts it
            self._set_step(node_id, status=StepStatus.RUNNING, started_at=started_at,
                           error=None, attempts=attempt,
                           attempt_log=[*state.attempt_log,
                                        {"attempt": attempt, "started_at": started_at,
                                         "run_attempt": self.run_attempt}])
            self._emit(EventType.STEP_STARTED, node_id, attempt=attempt,
                       type=self.nodes[node_id].type)
            if inline_budget > 0 and self._run_inline(node_id):
                inline_budget -= 1
                continue
            task = asyncio.get_running_loop().create_task(self._run_step(node_id))
            task.add_done_callback(functools.partial(self._step_done, node_id))
            self.running[node_id] = task

    def _inlinable(self, node_id: str) -> bool:
        node = self.nodes[node_id]
        return (self.types[node_id].pure and node.data.retry is None
                and not node.data.timeout_seconds)

    def _run_inline(self, node_id: str) -> bool:
        """Run a pure step right here, within this tick. False if it must be a task."""
        node = self.nodes[node_id]
        step_type = self.types[node_id]
        if not self._inlinable(node_id):
            return False
        ctx = self._make_ctx(node_id, self.steps[node_id].attempts)
        coro = run_handler(step_type, node.data.config, ctx, None, inline=True)
        try:
            coro.send(None)
        except StopIteration as done:
            self._complete(node_id, done.value, None)
            return True
        except StepError as error:
            self._complete(node_id, None, error)
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
        state = self.steps[node_id]

        def checkpoint(data: dict[str, Any]) -> None:
            self._set_step(node_id, state=dict(data))
            self.flush()

        def progress(payload: dict[str, Any]) -> None:
            self._emit(EventType.STEP_PROGRESS, node_id, **payload)
            self.flush()

        def record_input(config: Any) -> None:
            # what the step was given, rendered; kept with the step (shown in the app)
            rendered = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            self._set_step(node_id, state={**state.state,
                                           "input": truncate_for_event(rendered)})

        return StepContext(
            run_id=self.run_id,
            step_id=node_id,
            attempt=attempt,
            scope=self.scope,
            services=self.engine.services,
            state=state.state,
            checkpoint_cb=checkpoint,
            progress_cb=progress,
            input_cb=record_input,
        )

    async def _run_step(self, node_id: str) -> Any:
        node = self.nodes[node_id]
        state = self.steps[node_id]

        def started(attempt: int) -> None:
            if state.attempt_log and state.attempt_log[-1].get("attempt") == attempt:
                return  # recorded when the step was started
            log = [*state.attempt_log, {"attempt": attempt, "started_at": time.time(),
                                        "run_attempt": self.run_attempt}]
            self._set_step(node_id, attempts=attempt, attempt_log=log)

        def failed(attempt: int, error: StepError, delay: float | None) -> None:
            log = [dict(a) for a in state.attempt_log]
            if log:
                log[-1].update(finished_at=time.time(), error=str(error))
            self._set_step(node_id, attempt_log=log)
            if delay is not None:
                self._emit(EventType.STEP_RETRYING, node_id, attempt=attempt,
                           error=str(error), delay_seconds=round(delay, 3))
                self.flush()

        output, _ = await run_attempts(
            self.types[node_id],
            node.data.config,
            lambda attempt: self._make_ctx(node_id, attempt),
            retry=node.data.retry,
            timeout=node.data.timeout_seconds,
            first_attempt=state.attempts,
            on_attempt_started=started,
            on_attempt_failed=failed,
        )
        return output

    def _collect(self, node_id: str, task: asyncio.Task[Any]) -> None:
        del self.running[node_id]
        error = task.exception()
        self._complete(node_id, None if error is not None else task.result(), error)

    def _complete(self, node_id: str, output: Any, error: BaseException | None) -> None:
        state = self.steps[node_id]
        now = time.time()
        duration_ms = round((now - (state.started_at or now)) * 1000, 3)
        log = [dict(a) for a in state.attempt_log]
        if log and "finished_at" not in log[-1]:
            log[-1]["finished_at"] = now
        if error is None:
            step_type = self.types[node_id]
            branch = step_type.branch(output) if step_type.branch is not None else None
            self._set_step(node_id, status=StepStatus.COMPLETED, output=output, error=None,
                           finished_at=now, branch=branch, attempt_log=log)
            self._emit(EventType.STEP_COMPLETED, node_id, output=truncate_for_event(output),
                       duration_ms=duration_ms, attempts=state.attempts, branch=branch)
            self._finished(node_id)
        elif isinstance(error, StepWaiting):
            self._set_step(node_id, status=StepStatus.WAITING, state={**state.state,
                           "wait": error.info}, attempt_log=log)
            self._emit(EventType.STEP_WAITING, node_id, **truncate_for_event(error.info))
            if error.info.get("kind") == "event":
                self._new_event_waits.append(node_id)
        else:
            message = str(error) if isinstance(error, StepError) else repr(error)
            if self.nodes[node_id].data.continue_on_error:
                self._set_step(node_id, status=StepStatus.FAILED, output={"error": message},
                               error=message, finished_at=now, attempt_log=log)
                self._emit(EventType.STEP_FAILED, node_id, error=message,
                           attempts=state.attempts, duration_ms=duration_ms, continued=True)
                self._finished(node_id)
            else:
                self._set_step(node_id, status=StepStatus.FAILED, error=message,
                               finished_at=now, attempt_log=log)
                self._emit(EventType.STEP_FAILED, node_id, error=message,
                           attempts=state.attempts, duration_ms=duration_ms, continued=False)
                self.fatal = f"step '{node_id}' failed: {message}"

    async def _cancel_running(self, reason: str) -> None:
        tasks = dict(self.running)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        now = time.time()
        for node_id in tasks:
            del self.running[node_id]
            self._set_step(node_id, status=StepStatus.CANCELLED, finished_at=now, error=reason)
            self._emit(EventType.STEP_CANCELLED, node_id, reason=reason)

    # -- the run -----------------------------------------------------------------------------
    def _begin(self) -> None:
        now = time.time()
        if self._retry_info is not None:
            return  # reset_for_retry already recorded the new attempt
        if self.status is RunStatus.PENDING:
            self.started_at = now
            self._set_run(status=RunStatus.RUNNING, started_at=now, error=None)
            self._emit(EventType.RUN_STARTED, None, input=truncate_for_event(self.run.input),
                       workflow=self.run.workflow_name)
            return
        interrupted = [sid for sid, s in self.steps.items() if s.status is StepStatus.RUNNING]
        for sid in interrupted:
            self._set_step(sid, status=StepStatus.PENDING)
        resolved = [sid for sid in self.steps if self._resolve_wait(sid, now)]
        if self.status is not RunStatus.RUNNING:
            self._set_run(status=RunStatus.RUNNING, finished_at=None, error=None)
        self._emit(EventType.RUN_RESUMED, None, interrupted_steps=interrupted,
                   resolved_steps=resolved, previous_status=self.run.status.value)

    def _resolve_wait(self, step_id: str, now: float) -> bool:
        """A waiting step with a decision, an event or an expired timeout runs again (its
        handler reads the outcome from its state). True if it was set to run."""
        state = self.steps[step_id]
        if state.status is not StepStatus.WAITING:
            return False
        wait = state.state.get("wait") or {}
        resolved = "decision" in state.state or "event" in state.state
        if not resolved and wait.get("timeout_at") is not None and wait["timeout_at"] <= now:
            self._set_step(step_id, state={**state.state, "timed_out": True})
            resolved = True
        if not resolved:
            return False
        log = list(state.attempt_log)
        if log and not log[-1].get("error"):
            log.pop()  # the attempt that started waiting and this one are the same attempt
        # the step's time runs from when it first started waiting: an approval that waited
        # 23 s took 23 s, not the 2 ms of reading the decision
        first_started = state.state.get("first_started_at", state.started_at)
        self._set_step(step_id, status=StepStatus.PENDING, attempts=max(state.attempts - 1, 0),
                       attempt_log=log, state={**state.state, "first_started_at": first_started})
        return True

    def reset_for_retry(self, step_ids: list[str], reason: str, *,
                        definition: str = "original",
                        workflow_version: int | None = None) -> None:
        """Make ``step_ids`` run again as a new attempt of this (finished) run, which runs
        ``definition`` ("current": the saved workflow; "original": the run's own)."""
        attempt = self.run.attempt + 1
        for sid in step_ids:
            self._set_step(sid, status=StepStatus.PENDING, output=None, error=None,
                           attempts=0, started_at=None, finished_at=None, state={},
                           branch=None)
        self._set_run(status=RunStatus.RUNNING, finished_at=None, error=None, attempt=attempt,
                      cancel_requested=None)
        self.run_attempt = attempt
        self._emit(EventType.RUN_RETRIED, None, attempt=attempt, steps=step_ids, reason=reason,
                   definition=definition, workflow_version=workflow_version)
        self._retry_info = {"attempt": attempt, "steps": step_ids}

    async def cancel_now(self, reason: str) -> RunStatus:
        """Cancel a run that no live process is executing (paused, pending, or orphaned)."""
        now = time.time()
        for sid, state in self.steps.items():
            if state.status in (StepStatus.RUNNING, StepStatus.WAITING):
                self._set_step(sid, status=StepStatus.CANCELLED, finished_at=now, error=reason)
                self._emit(EventType.STEP_CANCELLED, sid, reason=reason)
        return self._finish(RunStatus.CANCELLED, reason)

    def wake(self) -> None:
        self._woken = True
        self._signal()

    def _poll(self) -> str | None:
        """Look at what other processes changed: a cancel request, decisions and events for
        waiting steps, expired waits. Renews our lease. Returns a cancel reason, if any."""
        now_m = time.monotonic()
        self._last_poll = now_m
        if now_m - self._last_renew > self.engine.lease_seconds / 3:
            self._last_renew = now_m
            self.store.claim_run(self.run_id, self.engine.owner, self.engine.lease_seconds)
        reason = self.store.cancel_requested(self.run_id)
        if reason is not None:
            return reason
        waiting = [sid for sid, s in self.steps.items() if s.status is StepStatus.WAITING]
        if waiting:
            fresh = {w["step_id"]: w["state"] for w in self.store.waiting_steps(self.run_id)}
            now = time.time()
            for sid in waiting:
                if sid in fresh:
                    self.steps[sid].state = fresh[sid]
                if self._resolve_wait(sid, now):
                    self.ready.append(sid)
        return None

    def _recheck_event_waits(self) -> None:
        """An event may have been kept just before its waiter was recorded as waiting."""
        waits, self._new_event_waits = self._new_event_waits, []
        for sid in waits:
            wait = self.steps[sid].state.get("wait") or {}
            event = self.store.consume_external_event(
                wait.get("event_name", ""), wait.get("correlation_key"), self.run_id, sid)
            if event is not None:
                self._set_step(sid, state={**self.steps[sid].state, "event": event})
                if self._resolve_wait(sid, time.time()):
                    self.ready.append(sid)

    def _deadline(self) -> float | None:
        limit = self.workflow.settings.timeout_seconds
        if limit is None:
            return None
        return (self.started_at or time.time()) + limit

    async def execute(self) -> RunStatus:
        self._session_start = time.time()
        self._begin()
        self._init_graph_state()
        loop = asyncio.get_running_loop()
        poll = self.engine.poll_interval
        timers: list[asyncio.TimerHandle] = []

        def poll_due() -> None:
            self._woken = True  # time to look at the store (cancel, decisions, lease)
            self._signal()
            timers.append(loop.call_later(poll, poll_due))

        timers.append(loop.call_later(poll, poll_due))
        deadline = self._deadline()
        if deadline is not None:
            timers.append(loop.call_at(loop.time() + max(deadline - time.time(), 0),
                                       self._signal))
        try:
            while True:
                self._start_ready()
                self.flush()
                if self._new_event_waits:
                    self._recheck_event_waits()
                    if self.ready:
                        continue
                if self.fatal is not None or not (self.running or self.ready):
                    break
                if self.ready and not self.running:
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
                if self.fatal is None and deadline is not None and time.time() >= deadline:
                    self.fatal = f"run timed out after {self.workflow.settings.timeout_seconds:g} s"
                if self.fatal is None and self._woken:
                    self._woken = False
                    reason = self._poll()
                    if reason is not None:
                        await self._cancel_running(reason)
                        return self._finish(RunStatus.CANCELLED, reason)
            if self.fatal is not None:
                await self._cancel_running("run failed")
                return self._finish(RunStatus.FAILED, self.fatal)
        except asyncio.CancelledError:
            if self.engine.shutting_down:
                # the process is stopping: leave the run "running" so the next start
                # resumes it (interrupted steps run again), rather than cancelling it
                for task in self.running.values():
                    task.cancel()
                await asyncio.gather(*self.running.values(), return_exceptions=True)
                self.flush()
                raise
            await self._cancel_running("run cancelled")
            self._finish(RunStatus.CANCELLED, "run cancelled")
            raise
        finally:
            for timer in timers:
                timer.cancel()
            self._tick = None
        if any(s.status is StepStatus.WAITING for s in self.steps.values()):
            return self._finish(RunStatus.PAUSED, None)
        return self._finish(RunStatus.COMPLETED, None)

    def snapshot(self) -> RunSnapshot:
        """The run as committed, built from memory (what ``store.get_run`` would return)."""
        run = self.run.model_copy(update={"status": self.status})
        for key in ("started_at", "finished_at", "error", "attempt"):
            if key in self._last_run_fields:
                setattr(run, key, self._last_run_fields[key])
        run.steps = {
            sid: StepRunSnapshot.model_construct(
                step_id=sid, status=st.status, output=st.output, error=st.error,
                attempts=st.attempts,
                attempt_log=[AttemptRecord.model_construct(**{
                    "started_at": None, "finished_at": None, "error": None, **a})
                    for a in st.attempt_log],
                started_at=st.started_at, finished_at=st.finished_at, state=st.state,
                branch=st.branch)
            for sid, st in self.steps.items()
        }
        return run

    def _finish(self, status: RunStatus, error: str | None) -> RunStatus:
        now = time.time()
        active = round((self.run.active_seconds or 0.0) + (now - self._session_start), 6)
        self.run.active_seconds = active  # a later session of this executor adds to it
        self._session_start = now
        duration_ms = round(active * 1000, 3)
        if status is RunStatus.PAUSED:
            waiting = [sid for sid, s in self.steps.items() if s.status is StepStatus.WAITING]
            self._set_run(status=status, cancel_requested=None, active_seconds=active)
            self._emit(EventType.RUN_PAUSED, None, waiting_steps=waiting)
        else:
            self._set_run(status=status, error=error, finished_at=now, active_seconds=active)
            type_ = {
                RunStatus.COMPLETED: EventType.RUN_COMPLETED,
                RunStatus.FAILED: EventType.RUN_FAILED,
                RunStatus.CANCELLED: EventType.RUN_CANCELLED,
            }[status]
            self._emit(type_, None, error=error, duration_ms=duration_ms)
        self.flush()
        return status
