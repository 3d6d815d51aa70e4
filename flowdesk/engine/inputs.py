"""A small check of a run's input against the workflow's ``input_schema``.

It covers what the input dialog and the CLI need to say clearly: the input's top-level type,
``required`` properties and the basic JSON types of declared properties. It is not a full
JSON Schema validator.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_input"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_ok(value: Any, expected: Any) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        types = _TYPES.get(name)
        if types is None:
            return True  # a type we do not check
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, types):
            return True
    return False


def check_input(schema: dict[str, Any], value: Any) -> list[str]:
    """Return one message per problem, e.g. ``input.count: expected integer, got string``."""
    problems: list[str] = []
    expected = schema.get("type")
    if expected is not None and not _type_ok(value, expected):
        return [f"input: expected {expected}, got {_json_type(value)}"]
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"input.{key}: required but missing")
        for key, prop in (schema.get("properties") or {}).items():
            if key in value and isinstance(prop, dict) and "type" in prop:
                if not _type_ok(value[key], prop["type"]):
                    problems.append(
                        f"input.{key}: expected {prop['type']}, got {_json_type(value[key])}"
                    )
    return problems


def _json_type(value: Any) -> str:
    for name, types in _TYPES.items():
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, types):
            return name
    return type(value).__name__
