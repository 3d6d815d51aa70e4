"""Functions every flowdesk install has for ``function_call`` steps (the entry point
``flowdesk.functions = builtins`` loads this module)."""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from typing import Any

from flowdesk.engine.functions import function

__all__ = ["now", "slugify", "sum_field", "uuid4"]


@function("flowdesk.now")
def now() -> dict[str, Any]:
    """The current time as epoch seconds and ISO 8601 (UTC)."""
    ts = time.time()
    return {"epoch": ts, "iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))}


@function("flowdesk.uuid")
def uuid4() -> str:
    return uuid.uuid4().hex


@function("text.slugify")
def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@function("math.sum_field")
def sum_field(items: list[dict[str, Any]], field: str) -> float:
    """Sum ``field`` over a list of objects (missing values count as 0)."""
    return float(sum(float(item.get(field) or 0) for item in items))
