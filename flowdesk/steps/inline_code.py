"""inline_code: run the user's Python in a sandbox process.

The code sees ``input``, ``steps`` (``steps["fetch"]["output"]``), ``run``, and inside
for_each ``item`` and ``index``; it sets ``result``. It runs in a separate process with a
wall-clock limit and a memory limit and gets JSON copies of its inputs, never the engine's
objects. On Linux the kernel confines it (empty environment, private working folder, no
files outside the Python installation, no network unless ``allow_network``, no processes);
an action it refused fails the step with ``sandbox: <action> is not allowed``. Output:
``{result, stdout}``, plus ``sandbox_not_enforced`` listing what this system could not
contain.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepError
from flowdesk.steps._base import StepConfig

__all__ = ["STEP", "InlineCodeConfig"]


class InlineCodeConfig(StepConfig):
    code: str = Field(description="Python; read input/steps/item, set result",
                      json_schema_extra={"format": "python"})
    timeout_seconds: float = Field(30.0, gt=0, le=3600, description="wall-clock limit")
    memory_mb: int = Field(512, ge=32, le=65536, description="memory limit of the process")
    allow_network: bool = Field(False, description="let the code open IPv4/IPv6 connections "
                                                   "(off: no sockets at all)")


async def run(config: InlineCodeConfig, ctx: StepContext) -> dict[str, Any]:
    scope = {k: ctx.scope[k] for k in ("input", "steps", "run", "item", "index")
             if k in ctx.scope}
    answer = await ctx.services.sandbox.run(
        config.code, scope, timeout=config.timeout_seconds, memory_mb=config.memory_mb,
        allow_network=config.allow_network,
    )
    if not answer.get("ok"):
        stdout = answer.get("stdout") or ""
        raise StepError(answer.get("error", "the code failed"),
                        data={"stdout": stdout} if stdout else None)
    output = {"result": answer.get("result"), "stdout": answer.get("stdout", "")}
    if answer.get("not_enforced"):  # say what this system could not contain, never pretend
        output["sandbox_not_enforced"] = list(answer["not_enforced"])
    return output


STEP = StepType(
    catalog=CatalogEntry(
        type="inline_code", label="Python code", category="Code", icon="code",
        description="Runs a Python snippet in a sandbox; set `result` to the output.",
        outputs=("result", "stdout"),
    ),
    config_model=InlineCodeConfig,
    handler=run,
    raw_fields=frozenset({"code"}),
)
