"""Parsing JSON that comes from outside (workflow files, --input, webhook bodies) safely.

``parse_json`` returns the value or raises ``JsonTextError`` with a message that says what is
wrong and where: invalid JSON (line, column), a document nested deeper than ``MAX_DEPTH``
levels (the parser would otherwise end in a RecursionError), or text larger than ``max_bytes``.
Never a traceback for any input.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "JsonTextError", "parse_json"]

MAX_DEPTH = 200
MAX_FILE_BYTES = 64 * 1024 * 1024


class JsonTextError(ValueError):
    pass


def _depth_exceeds(text: str, limit: int) -> bool:
    """True when brackets outside strings nest deeper than ``limit`` (a linear scan; the
    parser itself is recursive)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(text: str, *, max_bytes: int = MAX_FILE_BYTES) -> Any:
    if len(text) > max_bytes:
        raise JsonTextError(f"too large: {len(text):,} characters (the limit is "
                            f"{max_bytes:,})")
    # only a text with enough brackets can be too deep: skip the scan for everyday sizes
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(text, MAX_DEPTH):
        raise JsonTextError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}") from None
    except RecursionError:  # pragma: no cover - the scan above catches it first
        raise JsonTextError(f"nested more than {MAX_DEPTH} levels deep") from None
