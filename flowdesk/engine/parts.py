"""What an executor receives from the engine that drives it: ``RunParts``.

Contract: a plain dataclass of the collaborators (store, registry, bus, services), the owner
id this process claims runs under, the settings of this engine and two clocks. The executor
holds this, never the ``Engine`` itself, so the executor modules do not import the engine.
``shutting_down`` is asked each time (the engine may start a clean shutdown mid-run).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flowdesk.engine.bus import EventBus
from flowdesk.engine.groupwrite import FinalWrites
from flowdesk.engine.persistence import RunStore
from flowdesk.engine.registry import StepRegistry
from flowdesk.engine.services import Services

__all__ = ["ExecutorSettings", "RunParts"]


@dataclass(frozen=True)
class ExecutorSettings:
    max_concurrency: int | None = None  # None: the workflow's own setting
    poll_interval: float = 1.0  # how often a run looks at the store (cancel, decisions)
    lease_seconds: float = 30.0  # how long a claim holds without renewal


def _never() -> bool:
    return False


@dataclass(frozen=True)
class RunParts:
    store: RunStore
    registry: StepRegistry
    bus: EventBus
    services: Services
    owner: str
    settings: ExecutorSettings = ExecutorSettings()
    shutting_down: Callable[[], bool] = _never
    final_writes: FinalWrites | None = None  # None: each run's last write on its own
    clock: Callable[[], float] = field(default=time.time)  # wall time, recorded
    monotonic: Callable[[], float] = field(default=time.monotonic)  # intervals
