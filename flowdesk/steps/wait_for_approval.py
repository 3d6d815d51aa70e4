"""wait_for_approval: pause this branch until a person approves or rejects.

The step goes to ``waiting`` (the run to ``paused`` once nothing else can progress); the
decision — from the app's inbox or ``flowdesk approve/reject`` — becomes the output and picks
the ``approved`` or ``rejected`` port. ``timeout_seconds`` with ``on_timeout`` decides what
happens when nobody answers in time.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "ApprovalConfig"]


class ApprovalConfig(StepConfig):
    title: str = Field("Approval needed", description="what the approver sees first")
    instructions: str = Field("", description="what to check before deciding")
    data: Any = Field(None, description="data shown to the approver (templates allowed)")
    timeout_seconds: float | None = Field(None, gt=0, description="how long to wait")
    on_timeout: Literal["reject", "approve", "fail"] = "reject"


async def run(config: ApprovalConfig, ctx: StepContext) -> dict[str, Any]:
    decision = ctx.state.get("decision")
    if decision is not None:
        return {"approved": bool(decision.get("approved")),
                "comment": decision.get("comment") or "",
                "data": decision.get("data"),
                "decided_at": decision.get("decided_at"),
                "decided_by": decision.get("decided_by"),
                "timed_out": False}
    if ctx.state.get("timed_out"):
        waited = config.timeout_seconds or 0
        if config.on_timeout == "fail":
            raise StepError(f"nobody decided within {waited:g} s")
        return {"approved": config.on_timeout == "approve",
                "comment": f"no decision within {waited:g} s ({config.on_timeout}ed "
                           "automatically)", "data": None,
                "decided_at": time.time(), "decided_by": None, "timed_out": True}
    since = ctx.state.get("wait", {}).get("since") or time.time()
    raise StepWaiting({
        "kind": "approval", "title": config.title, "instructions": config.instructions,
        "data": config.data, "since": since,
        "timeout_at": since + config.timeout_seconds if config.timeout_seconds else None,
    })


STEP = StepType(
    catalog=CatalogEntry(
        type="wait_for_approval", label="Approval", category="Human", icon="approval",
        description="Pauses until a person approves or rejects; continues on that port.",
        ports=("approved", "rejected"),
        outputs=("approved", "comment", "data", "decided_at"),
    ),
    config_model=ApprovalConfig,
    handler=run,
    branch=lambda output: "approved" if output.get("approved") else "rejected",
)
