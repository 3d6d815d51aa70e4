"""function_call: call a registered Python function with keyword arguments.

Functions are registered with ``@flowdesk.engine.functions.function("name")`` in a plugin
file (the ``plugins`` folder of the data folder) or an installed package's
``flowdesk.functions`` entry point. Sync functions run in a thread, async ones on the loop.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from pydantic import Field

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError, StepError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "FunctionCallConfig"]


class FunctionCallConfig(StepConfig):
    function: str = Field(min_length=1, description="the registered name")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments")


async def run(config: FunctionCallConfig, ctx: StepContext) -> Any:
    registry = ctx.services.functions
    fn = registry.get(config.function)
    if fn is None:
        known = ", ".join(registry.names()) or "none"
        raise StepConfigError(f"no function named '{config.function}' (registered: {known})")
    try:
        inspect.signature(fn).bind(**config.args)
    except TypeError as exc:
        raise StepConfigError(
            f"function '{config.function}' cannot take these args: {exc}"
        ) from None
    try:
        if inspect.iscoroutinefunction(fn):
            return await fn(**config.args)
        return await asyncio.to_thread(fn, **config.args)
    except StepError:
        raise
    except Exception as exc:
        raise StepError(
            f"function '{config.function}' raised {type(exc).__name__}: {exc}"
        ) from None


STEP = StepType(
    catalog=CatalogEntry(
        type="function_call", label="Function call", category="Code", icon="function",
        description="Calls a Python function registered by a plugin.",
    ),
    config_model=FunctionCallConfig,
    handler=run,
)
