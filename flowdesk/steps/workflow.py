"""workflow: run another saved workflow as a child run, linked to this run; the output is
the child's result (the outputs of its completed last steps, by step id)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "WorkflowConfig"]


class WorkflowConfig(StepConfig):
    workflow: str = Field(min_length=1, description="the name of a saved workflow")
    input: Any = Field(None, description="the child's run input (templates allowed)")


async def run(config: WorkflowConfig, ctx: StepContext) -> Any:
    assert ctx.services.run_child is not None
    return await ctx.services.run_child(config.workflow, config.input or {}, ctx.run_id,
                                        ctx.step_id, f"{ctx.idempotency_key}:a{ctx.attempt}")


STEP = StepType(
    catalog=CatalogEntry(
        type="workflow", label="Sub-workflow", category="Flow", icon="subworkflow",
        description="Runs another saved workflow and returns its result.",
    ),
    config_model=WorkflowConfig,
    handler=run,
)
