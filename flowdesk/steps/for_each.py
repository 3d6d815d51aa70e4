"""for_each: run a step spec (or a saved workflow) once per item, with bounded concurrency.

Output ``{results, count, failed}``, results in item order. With ``fail_fast`` the first
failing item fails the step and cancels the others; without it a failed item's result is
``{"error": ...}`` and counted in ``failed``. The per-item spec's templates may use ``item``
and ``index``; it has its own ``retry`` and ``timeout_seconds``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.engine.stepexec import run_attempts
from flowdesk.model.errors import (
    InternalStepError,
    StepConfigError,
    StepError,
    UnknownStepType,
)
from flowdesk.model.workflow import RetryPolicy
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "ForEachConfig", "ItemStepSpec"]


class ItemStepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout_seconds: float | None = Field(None, gt=0)


class ForEachConfig(StepConfig):
    items: Any = Field(description="a template that gives a list, e.g. {{ input.orders }}")
    step: ItemStepSpec | None = Field(None, description="the step to run for each item")
    workflow: str | None = Field(None, description="or: a saved workflow run per item")
    concurrency: int = Field(5, ge=1, le=1000)
    fail_fast: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> ForEachConfig:
        if (self.step is None) == (self.workflow is None):
            raise ValueError("set exactly one of 'step' or 'workflow'")
        return self


async def run(config: ForEachConfig, ctx: StepContext) -> dict[str, Any]:
    items = config.items
    if isinstance(items, dict):
        items = [{"key": k, "value": v} for k, v in items.items()]
    if not isinstance(items, list):
        raise StepConfigError(f"'items' must be a list, got {type(items).__name__}")
    results: list[Any] = [None] * len(items)
    failed = 0
    semaphore = asyncio.Semaphore(config.concurrency)

    if config.step is not None:
        spec = config.step
        if spec.type == "for_each":
            raise StepConfigError("a for_each step cannot run for_each per item")
        try:
            assert ctx.services.registry is not None
            item_type = ctx.services.registry.get(spec.type)
        except UnknownStepType as exc:
            raise StepConfigError(str(exc)) from None

    async def one(index: int, item: Any) -> Any:
        async with semaphore:
            if config.workflow is not None:
                assert ctx.services.run_child is not None
                key = f"{ctx.idempotency_key}:a{ctx.attempt}:{index}"
                return await ctx.services.run_child(config.workflow, item, ctx.run_id,
                                                    ctx.step_id, key)
            scope = {**ctx.scope, "item": item, "index": index}

            def make_ctx(attempt: int) -> StepContext:
                return StepContext(run_id=ctx.run_id, step_id=ctx.step_id, attempt=attempt,
                                   scope=scope, services=ctx.services,
                                   key_suffix=f"{ctx.key_suffix}[{index}]")

            output, _ = await run_attempts(item_type, spec.config, make_ctx,
                                           retry=spec.retry, timeout=spec.timeout_seconds)
            return output

    tasks = [asyncio.ensure_future(one(i, item)) for i, item in enumerate(items)]
    try:
        if tasks and config.fail_fast:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for index, task in enumerate(tasks):
                error = task.exception() if task.done() and not task.cancelled() else None
                if isinstance(error, StepError | InternalStepError):
                    raise StepError(f"item {index} failed: {error}",
                                    retriable=error.retriable) from None
                if error is not None:
                    raise error
        for index, task in enumerate(tasks):
            try:
                results[index] = await task
            except (StepError, InternalStepError) as exc:  # a crash fails only its item
                results[index] = {"error": str(exc)}
                failed += 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"results": results, "count": len(items), "failed": failed}


STEP = StepType(
    catalog=CatalogEntry(
        type="for_each", label="For each", category="Flow", icon="loop",
        description="Runs a step or a saved workflow once per item of a list.",
        outputs=("results", "count", "failed"),
    ),
    config_model=ForEachConfig,
    handler=run,
    raw_fields=frozenset({"step"}),
    item_scope_fields=frozenset({"step"}),
)
