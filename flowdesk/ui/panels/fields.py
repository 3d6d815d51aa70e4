"""What the text typed into an inspector field means, and the text a stored value shows.

``parse_field_text`` turns typed text into ``(value, draft, error)``: a value to store, or
text that is not a valid value yet and is kept as typed (a draft) with the reason.
``field_text`` is the inverse, for showing a stored value; it never raises. A JSON field
takes one ``{{ template }}`` as its whole value (an expression), else JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowdesk.document.document import UNSET

__all__ = ["field_text", "parse_field_text", "whole_template"]

_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def whole_template(text: str) -> bool:
    """True when ``text`` is exactly one ``{{ template }}`` (an expression standing for the
    whole value, of whatever type it gives at run time)."""
    stripped = text.strip()
    match = _TEMPLATE.fullmatch(stripped)
    return match is not None and stripped.count("{{") == 1


def parse_field_text(kind: str, text: str) -> tuple[Any, str | None, str]:
    """What typed text means for a field of ``kind``: ``(value, draft, error)``.

    An empty text is ``UNSET`` (the key is removed). A JSON field takes a whole-value
    ``{{ template }}`` as it is, else the parsed JSON; text that is not valid yet comes
    back as ``draft`` (kept as typed) with the reason in ``error``."""
    if text.strip() == "":
        return UNSET, None, ""
    if kind == "json":
        if whole_template(text):
            return text.strip(), None, ""
        try:
            return json.loads(text), None, ""
        except json.JSONDecodeError as exc:
            return UNSET, text, (f"not valid JSON yet: {exc.msg} (line {exc.lineno}); kept "
                                 "as typed. A {{ template }} alone is taken as an expression")
    if kind == "number" and "{{" not in text:
        try:
            return (float(text) if any(c in text for c in ".eE") else int(text)), None, ""
        except ValueError:
            return UNSET, text, "enter a number or a {{ template }}; kept as typed"
    return text, None, ""


def field_text(kind: str, value: Any) -> str:
    """The text a field shows for a stored value (a value of an unexpected type is shown as
    JSON, or as its ``str``)."""
    if value is UNSET or value is None:
        return ""
    if kind == "json":
        if isinstance(value, str) and whole_template(value):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
