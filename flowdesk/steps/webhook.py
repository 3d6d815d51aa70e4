"""webhook: a trigger node. Its output is what started the run: the request for a webhook
run (``{body, headers, query}``), the run input as given for a manual run."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "WebhookConfig"]


class WebhookConfig(StepConfig):
    path: str = Field("", description="URL path under /hooks/ that starts this workflow")
    secret: str | None = Field(None, description="shared secret the caller must send")
    method: str = Field("POST", description="HTTP method accepted")


async def run(config: WebhookConfig, ctx: StepContext) -> Any:
    return ctx.scope.get("input")


STEP = StepType(
    catalog=CatalogEntry(
        type="webhook", label="Webhook trigger", category="Triggers", icon="webhook",
        description="Starts the workflow when an HTTP request arrives; outputs the request.",
        trigger=True, outputs=("body", "headers", "query"),
    ),
    config_model=WebhookConfig,
    handler=run,
    pure=True,  # it hands the run's input on: no I/O, never awaits (runs inline)
)
