"""delay: wait a number of seconds or until a time. The due time is checkpointed, so after a
crash the resumed step waits only for what is left."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "DelayConfig"]


class DelayConfig(StepConfig):
    seconds: float | None = Field(None, ge=0, description="how long to wait")
    until: str | None = Field(None, description="ISO 8601 time to wait for (UTC if no zone)")

    @model_validator(mode="after")
    def _one_of(self) -> DelayConfig:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("set exactly one of 'seconds' or 'until'")
        return self


def _due(config: DelayConfig) -> float:
    if config.seconds is not None:
        return time.time() + config.seconds
    assert config.until is not None
    try:
        when = datetime.fromisoformat(config.until)
    except ValueError:
        raise StepConfigError(f"'until' is not an ISO 8601 time: {config.until!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


async def run(config: DelayConfig, ctx: StepContext) -> dict[str, Any]:
    started = ctx.state.get("started_at")
    due = ctx.state.get("due_at")
    if due is None:
        started = time.time()
        due = _due(config)
        ctx.checkpoint({"due_at": due, "started_at": started})
    remaining = due - time.time()
    if remaining > 0:
        await asyncio.sleep(remaining)
    return {"waited_seconds": round(time.time() - (started or time.time()), 3)}


STEP = StepType(
    catalog=CatalogEntry(
        type="delay", label="Delay", category="Flow", icon="delay",
        description="Waits for a number of seconds or until a given time.",
        outputs=("waited_seconds",),
    ),
    config_model=DelayConfig,
    handler=run,
)
