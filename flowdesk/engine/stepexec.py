"""Running one step's handler: render its config, validate it, apply timeout and retries.

Used by the executor for workflow nodes and by ``for_each`` for its per-item step spec, so
both follow the same rules: only retriable errors are retried, each attempt's error is
reported to ``on_attempt_failed``, and the step's time limit covers one attempt.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.registry import StepType
from flowdesk.engine.retry import backoff_delay
from flowdesk.engine.templates import render
from flowdesk.model.errors import (
    InternalStepError,
    StepConfigError,
    StepError,
    StepFailure,
    StepTimeout,
)
from flowdesk.model.workflow import RetryPolicy, format_validation_error

__all__ = ["InternalStepError", "prepare_config", "run_attempts", "run_handler"]

log = logging.getLogger(__name__)


def prepare_config(step_type: StepType, raw: dict[str, Any], scope: Any) -> BaseModel:
    rendered = {
        key: (value if key in step_type.raw_fields else render(value, scope))
        for key, value in raw.items()
    }
    try:
        return step_type.config_model.model_validate(rendered)
    except ValidationError as exc:
        raise StepConfigError(
            f"invalid config: {format_validation_error(exc, 'config')}"
        ) from None


async def run_handler(
    step_type: StepType, raw_config: dict[str, Any], ctx: StepContext, timeout: float | None,
    *, inline: bool = False,
) -> Any:
    """One attempt. Converts timeouts and unexpected exceptions into StepErrors.
    ``inline``: driven by hand outside a task (pure steps; no timeout applies)."""
    try:
        if inline:
            return await _attempt(step_type, raw_config, ctx)
        async with asyncio.timeout(timeout):
            return await _attempt(step_type, raw_config, ctx)
    except (StepError, InternalStepError, StepWaiting, asyncio.CancelledError):
        raise
    except TimeoutError:
        raise StepTimeout(f"timed out after {timeout:g} s") from None
    except Exception as exc:
        log.error("step %s raised unexpectedly:\n%s", ctx.step_id, traceback.format_exc())
        raise InternalStepError(f"internal error: {type(exc).__name__}: {exc}") from exc


async def _attempt(step_type: StepType, raw_config: dict[str, Any], ctx: StepContext) -> Any:
    config = prepare_config(step_type, raw_config, ctx.scope)
    if ctx.input_cb is not None:
        ctx.input_cb(config)
    return await step_type.handler(config, ctx)


async def run_attempts(
    step_type: StepType,
    raw_config: dict[str, Any],
    make_ctx: Callable[[int], StepContext],
    *,
    retry: RetryPolicy | None,
    timeout: float | None,
    first_attempt: int = 1,
    on_attempt_started: Callable[[int], None] | None = None,
    on_attempt_failed: Callable[[int, StepFailure, float | None], None] | None = None,
) -> tuple[Any, int]:
    """Run attempts until one succeeds or the policy gives up; return (output, attempt).

    ``on_attempt_failed(attempt, error, delay)`` gets ``delay=None`` for the final failure.
    """
    max_attempts = retry.max_attempts if retry is not None else 1
    attempt = first_attempt
    while True:
        if on_attempt_started is not None:
            on_attempt_started(attempt)
        try:
            return await run_handler(step_type, raw_config, make_ctx(attempt), timeout), attempt
        except (StepError, InternalStepError) as error:
            if retry is not None and isinstance(error, StepError) and error.retriable \
                    and attempt < max_attempts:
                delay = backoff_delay(retry, attempt)
                if on_attempt_failed is not None:
                    on_attempt_failed(attempt, error, delay)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            if on_attempt_failed is not None:
                on_attempt_failed(attempt, error, None)
            raise
