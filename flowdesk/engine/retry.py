"""Backoff delays and the retriable/non-retriable split."""

from __future__ import annotations

import random

from flowdesk.model.errors import StepError
from flowdesk.model.workflow import RetryPolicy

__all__ = ["backoff_delay", "is_retriable"]


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based) before the next one."""
    base = policy.base_seconds
    if policy.backoff == "fixed":
        delay = base
    elif policy.backoff == "linear":
        delay = base * attempt
    else:
        delay = base * (2 ** min(attempt - 1, 60))
    delay = min(delay, policy.max_seconds)
    if policy.jitter:
        r = (rng or random).random()
        delay -= delay * policy.jitter * r
    return max(delay, 0.0)


def is_retriable(error: BaseException) -> bool:
    return isinstance(error, StepError) and error.retriable
