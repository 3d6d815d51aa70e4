"""wait_for_event: pause this branch until an event with a name (and key) arrives.

Events come from ``flowdesk send-event NAME --key KEY --data JSON`` or the app. An event that
arrives before anyone waits for it is kept (7 days by default, setting
``events.keep_seconds``) and taken by the first step that waits for it.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "EventConfig"]


class EventConfig(StepConfig):
    event_name: str = Field(min_length=1, description="e.g. payment.received")
    correlation_key: str | None = Field(
        None, description="only an event with this key, e.g. {{ input.order_id }}")
    timeout_seconds: float | None = Field(None, gt=0)
    on_timeout: Literal["fail", "continue"] = "fail"


def _output(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_name": event.get("event_name"), "key": event.get("key"),
            "data": event.get("data"), "received_at": event.get("received_at"),
            "timed_out": False}


async def run(config: EventConfig, ctx: StepContext) -> dict[str, Any]:
    event = ctx.state.get("event")
    if event is not None:
        return _output(event)
    key = config.correlation_key or None
    if ctx.state.get("timed_out"):
        if config.on_timeout == "fail":
            raise StepError(f"no event '{config.event_name}'"
                            f"{f' with key {key!r}' if key else ''} within "
                            f"{config.timeout_seconds:g} s")
        return {"event_name": config.event_name, "key": key, "data": None,
                "received_at": None, "timed_out": True}
    store = ctx.services.store
    if store is not None:
        kept = store.consume_external_event(config.event_name, key, ctx.run_id, ctx.step_id)
        if kept is not None:
            return _output(kept)
    since = ctx.state.get("wait", {}).get("since") or time.time()
    raise StepWaiting({
        "kind": "event", "event_name": config.event_name, "correlation_key": key,
        "since": since,
        "timeout_at": since + config.timeout_seconds if config.timeout_seconds else None,
    })


STEP = StepType(
    catalog=CatalogEntry(
        type="wait_for_event", label="Wait for event", category="Human", icon="event",
        description="Pauses until an event with this name (and key) arrives.",
        outputs=("event_name", "key", "data", "received_at"),
    ),
    config_model=EventConfig,
    handler=run,
)
