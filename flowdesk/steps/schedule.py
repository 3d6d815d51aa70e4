"""schedule: a trigger that starts the workflow on a cron schedule (``flowdesk serve`` and
the app fire it). Output: the run input ``{scheduled_at, cron}`` (for a manual run, the
input as given)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "ScheduleConfig"]


class ScheduleConfig(StepConfig):
    cron: str = Field(description="cron expression, e.g. '0 9 * * mon-fri' (6 fields: seconds)")
    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Paris")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


async def run(config: ScheduleConfig, ctx: StepContext) -> Any:
    return ctx.scope.get("input")


STEP = StepType(
    catalog=CatalogEntry(
        type="schedule", label="Schedule", category="Triggers", icon="schedule",
        description="Starts the workflow on a cron schedule.",
        trigger=True, outputs=("scheduled_at", "cron"),
    ),
    config_model=ScheduleConfig,
    handler=run,
    pure=True,  # it hands the run's input on: no I/O, never awaits (runs inline)
)
