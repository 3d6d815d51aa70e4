"""Shared bits of the step modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from flowdesk.model.errors import StepConfigError

if TYPE_CHECKING:
    from flowdesk.engine.context import StepContext

__all__ = ["StepConfig", "credential"]


class StepConfig(BaseModel):
    """Base of step configs: unknown keys are errors, so typos are caught by validation."""

    model_config = ConfigDict(extra="forbid")


def credential(ctx: StepContext, name: str, field: str) -> dict[str, Any]:
    """A stored credential as a dict of fields; a plain string becomes ``{field: value}``.
    Looked up through ``secrets`` in the scope, so its values are masked when recorded."""
    try:
        value = ctx.scope["secrets"][name]
    except KeyError:
        raise StepConfigError(f"no credential named '{name}' (add it with "
                              f"`flowdesk secrets set {name} --json`)") from None
    return value if isinstance(value, dict) else {field: value}
