"""Pins in a workflow *file*: the optional top-level ``pins`` object (``{step_id: output}``).

A stored workflow keeps its pins beside it in the database, never in its definition; a file
carries them only when exported with ``--with-pins``. ``split_pins`` takes them out of a
loaded file (import stores them apart), ``with_pins`` puts them into an exported copy.
"""

from __future__ import annotations

from typing import Any

from flowdesk.model.workflow import Workflow

__all__ = ["PINS_KEY", "split_pins", "with_pins"]

PINS_KEY = "pins"


def split_pins(workflow: Workflow) -> tuple[Workflow, dict[str, Any] | None]:
    """The workflow without a ``pins`` field, and that field (None when it had none)."""
    extra = workflow.model_extra or {}
    if PINS_KEY not in extra:
        return workflow, None
    pins = extra[PINS_KEY]
    data = workflow.to_dict()
    data.pop(PINS_KEY, None)
    return Workflow.model_validate(data), dict(pins) if isinstance(pins, dict) else {}


def with_pins(workflow: Workflow, pins: dict[str, Any]) -> Workflow:
    """A copy of the workflow carrying ``pins`` (none: the copy has no ``pins`` field)."""
    data = workflow.to_dict()
    data.pop(PINS_KEY, None)
    if pins:
        data[PINS_KEY] = pins
    return Workflow.model_validate(data)
