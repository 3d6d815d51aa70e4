"""A step run as a task, attempt after attempt, with each attempt recorded.

Contract: ``run_with_retries`` runs a step's handler under its ``retry`` policy and
``timeout_seconds`` (``flowdesk.engine.stepexec.run_attempts``), continuing from the attempts
the step already made (a crash-resume does not start over). Each attempt is in the step's
``attempt_log`` with its start, end and error; a retry is announced with ``step.retrying``
(flushed at once, so a person sees the wait) before its backoff delay. It returns the output
or raises the last attempt's error; the run state records the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowdesk.engine.context import StepContext
from flowdesk.engine.runstate import RunState
from flowdesk.engine.stepexec import run_attempts
from flowdesk.model.errors import StepFailure
from flowdesk.model.events import EventType

__all__ = ["run_with_retries"]


async def run_with_retries(run: RunState, node_id: str,
                           make_ctx: Callable[[int], StepContext]) -> Any:
    node = run.nodes[node_id]
    state = run.steps[node_id]

    def started(attempt: int) -> None:
        if state.attempt_log and state.attempt_log[-1].get("attempt") == attempt:
            return  # recorded when the step was started
        log = [*state.attempt_log, {"attempt": attempt, "started_at": run.clock(),
                                    "run_attempt": run.run_attempt}]
        run.set_step(node_id, attempts=attempt, attempt_log=log)

    def failed(attempt: int, error: StepFailure, delay: float | None) -> None:
        log = [dict(a) for a in state.attempt_log]
        if log:
            log[-1].update(finished_at=run.clock(), error=str(error))
        run.set_step(node_id, attempt_log=log)
        if delay is not None:
            run.emit(EventType.STEP_RETRYING, node_id, attempt=attempt,
                     error=str(error), delay_seconds=round(delay, 3))
            run.flush()

    output, _ = await run_attempts(
        run.types[node_id],
        node.data.config,
        make_ctx,
        retry=node.data.retry,
        timeout=node.data.timeout_seconds,
        first_attempt=state.attempts,
        on_attempt_started=started,
        on_attempt_failed=failed,
    )
    return output
