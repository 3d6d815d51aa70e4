"""The workflow engine: graph, templates, expressions, retries, event bus and executor.

No Qt and no SQLAlchemy here: the engine talks to a ``RunStore`` (``flowdesk.store.Store``).
"""

from __future__ import annotations

from flowdesk.engine.bus import EventBus
from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.engine import Engine, RunClaimed, workflow_outputs
from flowdesk.engine.registry import CatalogEntry, StepRegistry, StepType
from flowdesk.engine.services import Services, ServiceSettings
from flowdesk.engine.validation import check, validate

__all__ = [
    "CatalogEntry",
    "Engine",
    "EventBus",
    "RunClaimed",
    "ServiceSettings",
    "Services",
    "StepContext",
    "StepRegistry",
    "StepType",
    "StepWaiting",
    "check",
    "validate",
    "workflow_outputs",
]
