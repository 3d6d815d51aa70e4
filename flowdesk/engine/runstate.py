"""The in-memory state of one run and its transitions, with the writes they buffer.

Contract:
- ``RunState`` holds the run's steps (``StepState``), its template scope, the graph
  bookkeeping (how many upstream steps each pending step still waits for, the ready queue)
  and the run's status. Every transition changes memory and buffers the same change for the
  store together with its event; ``flush`` commits the buffer in one transaction and only
  then publishes the events. Event ``seq`` numbers count on from the run's last persisted
  event, without gaps.
- Secrets a step revealed are masked in everything buffered (outputs, errors, events).
- A step whose upstream steps are all finished is queued in ``ready`` when at least one
  incoming edge is live (``flowdesk.engine.rules.edge_live``), else it is skipped, and so on
  downstream. A failed step without ``continue_on_error`` or ``on_error: "error_output"``
  sets ``fatal``. With ``error_output`` the failure is recorded as ``failed`` with the branch
  ``error`` and the output ``failure_output(...)``, and only the ``error`` edges are live.
- No task, no waiting and no store reads besides ``last_seq``: the executor drives this.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.context import StepWaiting
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.groupwrite import Tick
from flowdesk.engine.parts import RunParts
from flowdesk.engine.registry import StepType
from flowdesk.engine.rules import edge_live
from flowdesk.model.errors import (
    ExpressionError,
    InternalStepError,
    StepConfigError,
    StepError,
    StepTimeout,
    TemplateError,
)
from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.jsontext import dump_json
from flowdesk.model.run import RunSnapshot, StepRunSnapshot, attempt_records
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.trusted import collector_paused, trusted
from flowdesk.model.workflow import ERROR_PORT, Edge, Node, Workflow

__all__ = ["EVENT_PAYLOAD_LIMIT", "RunState", "StepState", "failure_output",
           "truncate_for_event"]

EVENT_PAYLOAD_LIMIT = 16 * 1024

_END_EVENTS = {
    RunStatus.COMPLETED: EventType.RUN_COMPLETED,
    RunStatus.FAILED: EventType.RUN_FAILED,
    RunStatus.CANCELLED: EventType.RUN_CANCELLED,
}


def truncate_for_event(value: Any, limit: int = EVENT_PAYLOAD_LIMIT) -> Any:
    """Small values pass unchanged; big ones become a preview (the store keeps them whole)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= limit:
        return value
    text = dump_json(value)
    if len(text) <= limit:
        return value
    return {"truncated": True, "size": len(text), "preview": text[:limit]}


# most specific first: the ``type`` a routed failure reports
_ERROR_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (StepTimeout, "timeout"), (StepConfigError, "config"), (TemplateError, "template"),
    (ExpressionError, "expression"), (StepError, "step"),
)


def failure_output(error: BaseException, message: str, attempts: int, input: Any) -> Any:
    """What a step that routes its failure to the ``error`` port outputs:
    ``{"error": {"message", "type", "retriable", "attempts"}, "input": <rendered config>}``.
    ``type`` is timeout, config, template, expression, step (the step itself failed, e.g. an
    HTTP error status or an exception in the code) or internal (a bug of flowdesk or a
    plugin); ``input`` is null when the config could not be rendered."""
    kind = next((k for cls, k in _ERROR_KINDS if isinstance(error, cls)), "internal")
    retriable = isinstance(error, StepError) and error.retriable
    return {"error": {"message": message, "type": kind, "retriable": retriable,
                      "attempts": attempts}, "input": input}


@dataclass
class StepState:
    status: StepStatus = StepStatus.PENDING
    output: Any = None
    error: str | None = None
    attempts: int = 0
    attempt_log: list[dict[str, Any]] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    branch: str | None = None

    @classmethod
    def of(cls, snap: StepRunSnapshot | None) -> StepState:
        if snap is None:
            return cls()
        return cls(status=snap.status, output=snap.output, error=snap.error,
                   attempts=snap.attempts, attempt_log=[a.model_dump() for a in snap.attempt_log],
                   started_at=snap.started_at, finished_at=snap.finished_at,
                   state=dict(snap.state), branch=snap.branch)


class RunState:
    def __init__(self, parts: RunParts, run: RunSnapshot, *, new: bool = False,
                 graph: WorkflowGraph | None = None) -> None:
        """``new``: a run just recorded by this process (it has no events yet);
        ``graph``: the run's definition, already validated, as a (shared, read-only) graph."""
        self.parts = parts
        self.store = parts.store
        self.services = parts.services
        self.clock = parts.clock
        self.run_id = run.id
        self.run = run
        if graph is None:
            graph = WorkflowGraph(Workflow.model_validate(run.definition))
        self.workflow = graph.workflow
        self.graph = graph
        self.nodes: dict[str, Node] = {n.id: n for n in self.workflow.nodes}
        self.types: dict[str, StepType] = {
            n.id: parts.registry.get(n.type) for n in self.workflow.nodes
        }
        self.steps: dict[str, StepState] = {
            node_id: StepState.of(run.steps.get(node_id)) for node_id in self.nodes}
        self.scope_steps: dict[str, dict[str, Any]] = {}
        self.scope: dict[str, Any] = {
            "input": run.input if run.input is not None else {},
            "steps": self.scope_steps,
            "run": {"id": run.id, "workflow": run.workflow_name},
            "secrets": parts.services.secrets,
        }
        self.seq = 0 if new else self.store.last_seq(run.id)
        self.released = False  # the last write gave the run's claim up
        self._run_fields: dict[str, Any] = {}
        self.last_run_fields: dict[str, Any] = {}
        self._step_fields: dict[str, dict[str, Any]] = {}
        self._events: list[RunEvent] = []
        self.ready: deque[str] = deque()
        self.remaining: dict[str, int] = {}
        self.fatal: str | None = None
        self.status = run.status
        self.new_event_waits: list[str] = []  # steps that just began waiting for an event
        self.retry_info: dict[str, Any] | None = None
        self.started_at = run.started_at
        self.run_attempt = run.attempt  # which attempt of the run (a retry is the next one)
        self.session_start = self.clock()  # this process's share of the run's active time

    # -- buffering ---------------------------------------------------------------------------
    def emit(self, type_: EventType, step_id: str | None = None, **payload: Any) -> None:
        self.seq += 1
        secrets = self.services.secrets
        if secrets.revealed:
            payload = secrets.redact(payload)
        # built from trusted values on the hot path: no validation pass
        self._events.append(trusted(RunEvent, {
            "run_id": self.run_id, "seq": self.seq, "type": type_, "step_id": step_id,
            "ts": self.clock(), "payload": payload}))

    def set_step(self, step_id: str, **fields: Any) -> None:
        secrets = self.services.secrets
        if secrets.revealed:  # a secret was used: mask it in everything recorded
            for key in ("output", "error", "state", "attempt_log"):
                if key in fields:
                    fields[key] = secrets.redact(fields[key])
        state = self.steps[step_id]
        for key, value in fields.items():
            setattr(state, key, value)
        self._step_fields.setdefault(step_id, {}).update(fields)

    def set_run(self, **fields: Any) -> None:
        self._run_fields.update(fields)
        self.last_run_fields.update(fields)
        if "status" in fields:
            self.status = fields["status"]

    def flush(self) -> None:
        """Commit buffered changes in one transaction, then publish their events."""
        if not (self._run_fields or self._step_fields or self._events):
            return
        events, self._events = self._events, []
        self.store.write(self.run_id, self._run_fields, self._step_fields, events)
        self._run_fields, self._step_fields = {}, {}
        self.publish(events)

    def take_writes(self) -> Tick | None:
        """Hand the buffered changes over to be committed elsewhere (``FinalWrites``); the
        caller publishes their events once they are committed."""
        if not (self._run_fields or self._step_fields or self._events):
            return None
        tick = (self.run_id, self._run_fields, self._step_fields, self._events)
        self._run_fields, self._step_fields, self._events = {}, {}, []
        return tick

    def publish(self, events: list[RunEvent]) -> None:
        publish = self.parts.bus.publish
        for event in events:
            publish(event)

    # -- graph bookkeeping -------------------------------------------------------------------
    def edge_live(self, edge: Edge) -> bool:
        source = self.steps[edge.source]
        data = self.nodes[edge.source].data
        return edge_live(source.status, source.branch, edge.source_handle,
                         branching=bool(self.types[edge.source].catalog.ports),
                         continue_on_error=data.continue_on_error,
                         error_output=data.error_output)

    def _scope_step(self, step_id: str) -> None:
        state = self.steps[step_id]
        self.scope_steps[step_id] = {"output": state.output, "status": state.status.value}

    def init_graph(self) -> None:
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
        if not incoming or any(self.edge_live(e) for e in incoming):
            self.ready.append(node_id)
            return
        self.set_step(node_id, status=StepStatus.SKIPPED, started_at=None,
                      finished_at=self.clock())
        self.emit(EventType.STEP_SKIPPED, node_id, reason="no live incoming edge")
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

    # -- step transitions --------------------------------------------------------------------
    def start_step(self, node_id: str) -> None:
        """``node_id`` begins its next attempt (recorded with step.started, so that a crash
        mid-step still counts it)."""
        state = self.steps[node_id]
        now = self.clock()
        attempt = state.attempts + 1
        started_at = state.state.get("first_started_at") or now  # resuming a wait
        self.set_step(node_id, status=StepStatus.RUNNING, started_at=started_at,
                      error=None, attempts=attempt,
                      attempt_log=[*state.attempt_log,
                                   {"attempt": attempt, "started_at": started_at,
                                    "run_attempt": self.run_attempt}])
        self.emit(EventType.STEP_STARTED, node_id, attempt=attempt,
                  type=self.nodes[node_id].type)

    def complete(self, node_id: str, output: Any, error: BaseException | None) -> None:
        """A step's handler returned ``output`` or raised ``error``: completed, waiting,
        failed-and-continued or failed (which makes the run fatal)."""
        state = self.steps[node_id]
        now = self.clock()
        duration_ms = round((now - (state.started_at or now)) * 1000, 3)
        log = [dict(a) for a in state.attempt_log]
        if log and "finished_at" not in log[-1]:
            log[-1]["finished_at"] = now
        if error is None:
            step_type = self.types[node_id]
            branch = step_type.branch(output) if step_type.branch is not None else None
            self.set_step(node_id, status=StepStatus.COMPLETED, output=output, error=None,
                          finished_at=now, branch=branch, attempt_log=log)
            self.emit(EventType.STEP_COMPLETED, node_id, output=truncate_for_event(output),
                      duration_ms=duration_ms, attempts=state.attempts, branch=branch)
            self._finished(node_id)
        elif isinstance(error, StepWaiting):
            self.set_step(node_id, status=StepStatus.WAITING, state={**state.state,
                          "wait": error.info}, attempt_log=log)
            self.emit(EventType.STEP_WAITING, node_id, **truncate_for_event(error.info))
            if error.info.get("kind") == "event":
                self.new_event_waits.append(node_id)
        else:
            message = (str(error) if isinstance(error, StepError | InternalStepError)
                       else repr(error))
            data = self.nodes[node_id].data
            continued = data.continue_on_error or data.error_output
            extra: dict[str, Any] = {}
            if data.error_output:
                extra = {"output": failure_output(error, message, state.attempts,
                                                  state.state.get("input")),
                         "branch": ERROR_PORT}
            elif continued:
                extra = {"output": {"error": message}}
            self.set_step(node_id, status=StepStatus.FAILED, error=message,
                          finished_at=now, attempt_log=log, **extra)
            routed = {"branch": ERROR_PORT, "output": truncate_for_event(extra["output"])} \
                if data.error_output else {}
            self.emit(EventType.STEP_FAILED, node_id, error=message,
                      attempts=state.attempts, duration_ms=duration_ms, continued=continued,
                      **routed)
            if continued:
                self._finished(node_id)
            else:
                self.fatal = f"step '{node_id}' failed: {message}"

    def cancel_step(self, node_id: str, reason: str) -> None:
        self.set_step(node_id, status=StepStatus.CANCELLED, finished_at=self.clock(),
                      error=reason)
        self.emit(EventType.STEP_CANCELLED, node_id, reason=reason)

    # -- run transitions ---------------------------------------------------------------------
    def begin(self) -> None:
        """A run that never started starts (resumed runs go through ``resume``)."""
        now = self.clock()
        self.started_at = now
        self.set_run(status=RunStatus.RUNNING, started_at=now, error=None)
        self.emit(EventType.RUN_STARTED, None, input=truncate_for_event(self.run.input),
                  workflow=self.run.workflow_name)

    def requeue_interrupted(self) -> list[str]:
        """Steps that were running when the last owner stopped run again: their ids."""
        interrupted = [sid for sid, s in self.steps.items() if s.status is StepStatus.RUNNING]
        for sid in interrupted:
            self.set_step(sid, status=StepStatus.PENDING)
        return interrupted

    def resumed(self, interrupted: list[str], resolved: list[str]) -> None:
        if self.status is not RunStatus.RUNNING:
            self.set_run(status=RunStatus.RUNNING, finished_at=None, error=None)
        self.emit(EventType.RUN_RESUMED, None, interrupted_steps=interrupted,
                  resolved_steps=resolved, previous_status=self.run.status.value)

    def reset_for_retry(self, step_ids: list[str], reason: str, *,
                        definition: str = "original",
                        workflow_version: int | None = None) -> None:
        """Make ``step_ids`` run again as a new attempt of this (finished) run, which runs
        ``definition`` ("current": the saved workflow; "original": the run's own)."""
        attempt = self.run.attempt + 1
        for sid in step_ids:
            self.set_step(sid, status=StepStatus.PENDING, output=None, error=None,
                          attempts=0, started_at=None, finished_at=None, state={},
                          branch=None)
        self.set_run(status=RunStatus.RUNNING, finished_at=None, error=None, attempt=attempt,
                     cancel_requested=None)
        self.run_attempt = attempt
        self.emit(EventType.RUN_RETRIED, None, attempt=attempt, steps=step_ids, reason=reason,
                  definition=definition, workflow_version=workflow_version)
        self.retry_info = {"attempt": attempt, "steps": step_ids}

    def deadline(self) -> float | None:
        limit = self.workflow.settings.timeout_seconds
        if limit is None:
            return None
        return (self.started_at or self.clock()) + limit

    def finish(self, status: RunStatus, error: str | None) -> RunStatus:
        """Record the run as ``status`` (paused, or an end) with its active time; flush."""
        self.record_finish(status, error)
        self.flush()
        self.released = True
        return status

    def record_finish(self, status: RunStatus, error: str | None) -> None:
        """Buffer the run's end (or pause) with its active time, giving its claim up."""
        now = self.clock()
        active = round((self.run.active_seconds or 0.0) + (now - self.session_start), 6)
        self.run.active_seconds = active  # a later session of this executor adds to it
        self.session_start = now
        duration_ms = round(active * 1000, 3)
        if status is RunStatus.PAUSED:
            waiting = [sid for sid, s in self.steps.items() if s.status is StepStatus.WAITING]
            self.set_run(status=status, cancel_requested=None, active_seconds=active)
            self.emit(EventType.RUN_PAUSED, None, waiting_steps=waiting)
        else:
            self.set_run(status=status, error=error, finished_at=now, active_seconds=active)
            self.emit(_END_EVENTS[status], None, error=error, duration_ms=duration_ms)
        # the claim is given up in the same write (no separate release)
        self.set_run(owner=None, lease_until=None)

    def snapshot(self) -> RunSnapshot:
        """The run as committed, built from memory (what ``store.get_run`` would return)."""
        run = self.run.model_copy(update={"status": self.status})
        for key in ("started_at", "finished_at", "error", "attempt"):
            if key in self.last_run_fields:
                setattr(run, key, self.last_run_fields[key])
        with collector_paused():
            run.steps = self._step_snapshots()
        return run

    def _step_snapshots(self) -> dict[str, StepRunSnapshot]:
        return {
            sid: trusted(StepRunSnapshot, {
                "step_id": sid, "status": st.status, "output": st.output, "error": st.error,
                "attempts": st.attempts,
                "attempt_log": attempt_records(st.attempt_log),
                "started_at": st.started_at, "finished_at": st.finished_at,
                "state": st.state, "branch": st.branch})
            for sid, st in self.steps.items()
        }

