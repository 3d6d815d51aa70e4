"""condition: evaluate a safe expression; the run goes on through ``true`` or ``false``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowdesk.engine.context import StepContext
from flowdesk.engine.expressions import evaluate
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "ConditionConfig"]


class ConditionConfig(StepConfig):
    expression: str = Field(
        min_length=1,
        description="e.g. steps.fetch.output.status_code == 200 and len(input.items) > 0",
    )


async def run(config: ConditionConfig, ctx: StepContext) -> dict[str, Any]:
    return {"result": bool(evaluate(config.expression, ctx.scope))}


STEP = StepType(
    catalog=CatalogEntry(
        type="condition", label="Condition", category="Logic", icon="condition",
        description="Checks an expression and continues through 'true' or 'false'.",
        ports=("true", "false"), outputs=("result",),
    ),
    config_model=ConditionConfig,
    handler=run,
    pure=True,
    raw_fields=frozenset({"expression"}),
    expression_fields=frozenset({"expression"}),
    branch=lambda output: "true" if output.get("result") else "false",
)
