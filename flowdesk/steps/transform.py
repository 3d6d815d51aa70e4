"""transform: build a value from templates, or query one with JMESPath.

``output`` may be any JSON with templates in it; with ``jmespath`` set, the query runs over
``source`` (a template; the whole scope ``{input, steps, run}`` when not given).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "TransformConfig"]


class TransformConfig(StepConfig):
    output: Any = Field(None, description="any JSON value; templates are resolved")
    jmespath: str | None = Field(None, description="a JMESPath query over source")
    source: Any = Field(None, description="what the query reads (default: the whole scope)")

    @model_validator(mode="after")
    def _one_mode(self) -> TransformConfig:
        if self.jmespath is not None and self.output is not None:
            raise ValueError("set either 'output' or 'jmespath', not both")
        return self


async def run(config: TransformConfig, ctx: StepContext) -> Any:
    if config.jmespath is None:
        return config.output
    import jmespath
    from jmespath.exceptions import JMESPathError

    source = config.source
    if source is None:
        source = {k: ctx.scope[k] for k in ("input", "steps", "run") if k in ctx.scope}
    try:
        return jmespath.search(config.jmespath, source)
    except JMESPathError as exc:
        raise StepConfigError(f"jmespath query {config.jmespath!r} failed: {exc}") from None


STEP = StepType(
    catalog=CatalogEntry(
        type="transform", label="Transform", category="Data", icon="transform",
        description="Builds a new value from templates, or queries data with JMESPath.",
    ),
    config_model=TransformConfig,
    handler=run,
    pure=True,
)
