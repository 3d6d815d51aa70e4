"""Shared bits of the step modules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StepConfig"]


class StepConfig(BaseModel):
    """Base of step configs: unknown keys are errors, so typos are caught by validation."""

    model_config = ConfigDict(extra="forbid")
