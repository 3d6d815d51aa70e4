"""What a step handler receives besides its config: the ``StepContext``.

Handlers see the run scope (read-only by convention), shared services (one HTTP client, the
function registry, the code sandbox), a stable idempotency key they may forward, and two
callbacks: ``checkpoint`` persists small step state that must survive a crash (a delay's due
time), ``progress`` publishes a ``step.progress`` event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdesk.engine.templates import render

if TYPE_CHECKING:
    from flowdesk.engine.services import Services

__all__ = ["StepContext", "StepWaiting"]


class StepWaiting(Exception):
    """Raised by a handler to put the step in ``waiting`` until a decision or event arrives."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(info.get("kind", "waiting"))
        self.info = info


@dataclass
class StepContext:
    run_id: str
    step_id: str
    attempt: int
    scope: Mapping[str, Any]
    services: Services
    state: dict[str, Any] = field(default_factory=dict)
    key_suffix: str = ""
    checkpoint_cb: Callable[[dict[str, Any]], None] | None = None
    progress_cb: Callable[[dict[str, Any]], None] | None = None
    input_cb: Callable[[Any], None] | None = None  # gets the rendered config (the input)

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts and crash-resumes of this step: forward it to services
        that deduplicate (e.g. an ``Idempotency-Key`` HTTP header)."""
        return f"{self.run_id}:{self.step_id}{self.key_suffix}"

    def render(self, value: Any, extra: Mapping[str, Any] | None = None) -> Any:
        scope = self.scope if not extra else {**self.scope, **extra}
        return render(value, scope)

    def checkpoint(self, state: dict[str, Any]) -> None:
        self.state.update(state)
        if self.checkpoint_cb is not None:
            self.checkpoint_cb(dict(self.state))

    def progress(self, payload: dict[str, Any]) -> None:
        if self.progress_cb is not None:
            self.progress_cb(payload)
