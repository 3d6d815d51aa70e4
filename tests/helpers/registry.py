"""A small in-code step registry for engine tests (orange's small_small_registry idea)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepRegistry, StepType
from flowdesk.model.errors import StepError
from flowdesk.steps import default_registry


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any = None
    sleep: float = 0.0


class FlakyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failures: int = 1  # how many attempts fail before one succeeds
    retriable: bool = True
    message: str = "flaky failure"


class Journal:
    """Records what ran, when: the order of starts and finishes across steps."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, float]] = []
        self.attempts: dict[str, int] = {}
        self.running = 0
        self.max_running = 0

    def started(self, step_id: str) -> list[str]:
        return [s for kind, s, _ in self.entries if kind == "start" and s == step_id]

    def order(self, kind: str = "start") -> list[str]:
        return [s for k, s, _ in self.entries if k == kind]


def small_registry(journal: Journal) -> StepRegistry:
    async def echo(config: EchoConfig, ctx: StepContext) -> Any:
        journal.entries.append(("start", ctx.step_id, time.monotonic()))
        journal.running += 1
        journal.max_running = max(journal.max_running, journal.running)
        try:
            if config.sleep:
                await asyncio.sleep(config.sleep)
        finally:
            journal.running -= 1
        journal.entries.append(("end", ctx.step_id, time.monotonic()))
        return config.value

    async def flaky(config: FlakyConfig, ctx: StepContext) -> Any:
        key = ctx.idempotency_key
        journal.attempts[key] = journal.attempts.get(key, 0) + 1
        journal.entries.append(("start", ctx.step_id, time.monotonic()))
        if journal.attempts[key] <= config.failures:
            raise StepError(f"{config.message} #{journal.attempts[key]}",
                            retriable=config.retriable)
        return {"attempt": ctx.attempt}

    async def boom(config: EchoConfig, ctx: StepContext) -> Any:
        raise RuntimeError("a bug in a handler")

    def entry(name: str, ports: tuple[str, ...] = ()) -> CatalogEntry:
        return CatalogEntry(type=name, label=name, category="Test", description=name,
                            icon="test", ports=ports)

    registry = default_registry()
    registry.register(StepType(entry("echo"), EchoConfig, echo))
    registry.register(StepType(entry("flaky"), FlakyConfig, flaky))
    registry.register(StepType(entry("boom"), EchoConfig, boom))
    return registry


def wf(nodes: list[dict[str, Any]], edges: list[Any] = (), **extra: Any) -> dict[str, Any]:
    """Shorthand: nodes as dicts with ``id``, ``type``, ``config`` and node-data keys;
    edges as ``(source, target)`` or ``(source, target, handle)`` tuples."""
    out_nodes = []
    for n in nodes:
        n = dict(n)
        node_id, type_ = n.pop("id"), n.pop("type", "echo")
        data = {"config": n.pop("config", {}), **n}
        out_nodes.append({"id": node_id, "type": type_, "data": data})
    out_edges = []
    for i, e in enumerate(edges):
        edge = {"id": f"e{i}", "source": e[0], "target": e[1]}
        if len(e) > 2:
            edge["sourceHandle"] = e[2]
        out_edges.append(edge)
    return {"name": extra.pop("name", "test"), "nodes": out_nodes, "edges": out_edges, **extra}
