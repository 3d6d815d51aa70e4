"""Waiting steps: approvals, external events and delays, and what resolves them.

Contract:
- A waiting step (status ``waiting``, its wait described in ``state["wait"]``) runs again
  when its state holds a ``decision`` or an ``event``, or when its ``timeout_at`` has passed
  (then ``timed_out`` is set); its handler reads the outcome from its state. The attempt
  that began the wait and the one that reads its outcome count as one attempt, and the
  step's time runs from when it first started waiting.
- ``refresh_waits`` reads decisions and events other processes recorded for this run's
  waiting steps; ``recheck_event_waits`` consumes an event that was kept just before its
  waiter was recorded. Both queue the steps they resolve in ``state.ready``.
"""

from __future__ import annotations

from flowdesk.engine.runstate import RunState
from flowdesk.model.status import StepStatus

__all__ = ["recheck_event_waits", "refresh_waits", "resolve_wait"]


def resolve_wait(run: RunState, step_id: str, now: float) -> bool:
    """A waiting step with a decision, an event or an expired timeout runs again. True if
    it was set to run."""
    state = run.steps[step_id]
    if state.status is not StepStatus.WAITING:
        return False
    wait = state.state.get("wait") or {}
    resolved = "decision" in state.state or "event" in state.state
    if not resolved and wait.get("timeout_at") is not None and wait["timeout_at"] <= now:
        run.set_step(step_id, state={**state.state, "timed_out": True})
        resolved = True
    if not resolved:
        return False
    log = list(state.attempt_log)
    if log and not log[-1].get("error"):
        log.pop()  # the attempt that started waiting and this one are the same attempt
    # the step's time runs from when it first started waiting: an approval that waited
    # 23 s took 23 s, not the 2 ms of reading the decision
    first_started = state.state.get("first_started_at", state.started_at)
    run.set_step(step_id, status=StepStatus.PENDING, attempts=max(state.attempts - 1, 0),
                 attempt_log=log, state={**state.state, "first_started_at": first_started})
    return True


def refresh_waits(run: RunState) -> None:
    """Take in decisions and events recorded elsewhere, and expired timeouts."""
    waiting = [sid for sid, s in run.steps.items() if s.status is StepStatus.WAITING]
    if not waiting:
        return
    fresh = {w["step_id"]: w["state"] for w in run.store.waiting_steps(run.run_id)}
    now = run.clock()
    for sid in waiting:
        if sid in fresh:
            run.steps[sid].state = fresh[sid]
        if resolve_wait(run, sid, now):
            run.ready.append(sid)


def recheck_event_waits(run: RunState) -> None:
    """An event may have been kept just before its waiter was recorded as waiting."""
    waits, run.new_event_waits = run.new_event_waits, []
    for sid in waits:
        wait = run.steps[sid].state.get("wait") or {}
        event = run.store.consume_external_event(
            wait.get("event_name", ""), wait.get("correlation_key"), run.run_id, sid)
        if event is not None:
            run.set_step(sid, state={**run.steps[sid].state, "event": event})
            if resolve_wait(run, sid, run.clock()):
                run.ready.append(sid)
