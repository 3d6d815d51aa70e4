"""``{{ path }}`` templates over the run scope.

A string that is exactly one template keeps the value's type; a template inside longer text
is rendered as text (JSON for dicts, lists, booleans and null). Paths use dots and ``[n]`` or
``["key"]`` indexes: ``steps.fetch.output.body.items[0].id``. A missing path raises
``TemplateError`` naming the path and the part that was missing — never an empty string.

``{{= expression }}`` evaluates a safe expression (``flowdesk.engine.expressions``) over the
same scope instead of reading one path: ``{{= input.price * input.qty }}``,
``{{= upper(input.name) }}``. Its errors are ``ExpressionError``s naming the expression.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from flowdesk.engine.expressions import check_syntax, evaluate, iter_step_references
from flowdesk.model.errors import ExpressionError, TemplateError

__all__ = [
    "PathPart",
    "format_path",
    "has_template",
    "iter_references",
    "parse_path",
    "render",
    "resolve_path",
]

PathPart = str | int

TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_WHOLE_RE = re.compile(r"\A\s*\{\{(.*?)\}\}\s*\Z", re.DOTALL)
_SEGMENT_RE = re.compile(
    r"""
    (?P<name>[A-Za-z_][\w-]*)            # identifier (step ids may contain '-')
    | \[\s*(?P<index>-?\d+)\s*\]         # [0]
    | \[\s*(?P<q>["'])(?P<key>.*?)(?P=q)\s*\]   # ["key"]
    | (?P<dot>\.)
    """,
    re.VERBOSE,
)


def has_template(value: str) -> bool:
    return "{{" in value and TEMPLATE_RE.search(value) is not None


def parse_path(text: str) -> list[PathPart]:
    """Split ``a.b[0]["c d"]`` into ``["a", "b", 0, "c d"]``; raise on anything else."""
    source = text.strip()
    if not source:
        raise TemplateError("empty template '{{ }}'")
    parts: list[PathPart] = []
    pos = 0
    expect_name = True  # at the start and right after a dot a name must follow
    while pos < len(source):
        m = _SEGMENT_RE.match(source, pos)
        if m is None:
            raise TemplateError(
                f"malformed template path '{source}' at character {pos + 1}: "
                f"unexpected {source[pos]!r}"
            )
        if m.group("name") is not None:
            if not expect_name:
                raise TemplateError(f"malformed template path '{source}': missing '.'")
            parts.append(m.group("name"))
            expect_name = False
        elif m.group("dot") is not None:
            if expect_name:
                raise TemplateError(f"malformed template path '{source}': misplaced '.'")
            expect_name = True
        elif expect_name and not parts:
            raise TemplateError(f"malformed template path '{source}': must start with a name")
        elif m.group("index") is not None:
            parts.append(int(m.group("index")))
        else:
            parts.append(m.group("key"))
        pos = m.end()
    if expect_name:
        raise TemplateError(f"malformed template path '{source}': ends with '.'")
    return parts


def format_path(parts: list[PathPart]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def resolve_path(parts: list[PathPart], scope: Mapping[str, Any]) -> Any:
    value: Any = scope
    for i, part in enumerate(parts):
        try:
            if isinstance(part, int):
                if not isinstance(value, list | tuple | str):
                    raise TypeError
                value = value[part]
            else:
                if not isinstance(value, Mapping):
                    raise TypeError
                value = value[part]
        except (KeyError, IndexError, TypeError):
            found = format_path(parts[:i]) or "the scope"
            kind = type(value).__name__ if i else "scope"
            raise TemplateError(
                f"template path '{format_path(parts)}' not found: "
                f"{found} ({_describe(value, kind)}) has no {_describe_part(part)}"
            ) from None
    return value


def _describe(value: Any, kind: str) -> str:
    if isinstance(value, Mapping):
        keys = list(value.keys())[:8]
        return f"keys: {', '.join(map(str, keys))}" if keys else "empty"
    if isinstance(value, list | tuple):
        return f"list of {len(value)}"
    return kind


def _describe_part(part: PathPart) -> str:
    return f"index {part}" if isinstance(part, int) else f"key '{part}'"


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _value_of(inner: str, scope: Mapping[str, Any]) -> Any:
    stripped = inner.strip()
    if stripped.startswith("="):
        try:
            return evaluate(stripped[1:], scope)
        except ExpressionError as exc:
            message = str(exc)
            if stripped[1:].strip() not in message:
                message = "template '{{" + stripped + " }}': " + message
            raise ExpressionError(message) from None
    return resolve_path(parse_path(inner), scope)


def render_string(text: str, scope: Mapping[str, Any]) -> Any:
    if "{{" not in text:
        return text
    whole = _WHOLE_RE.match(text)
    if whole is not None and "{{" not in whole.group(1):
        return _value_of(whole.group(1), scope)
    return TEMPLATE_RE.sub(lambda m: _to_text(_value_of(m.group(1), scope)), text)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every template inside ``value`` (strings, and dict/list members)."""
    if isinstance(value, str):
        return render_string(value, scope)
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def iter_references(
    value: Any, where: str = ""
) -> Iterator[tuple[str, list[PathPart] | None, str]]:
    """Yield ``(field, parts, raw)`` for each template in ``value``; ``parts`` is None when the
    template is malformed (``raw`` then holds the error message)."""
    if isinstance(value, str):
        if "{{" not in value:
            return
        for m in TEMPLATE_RE.finditer(value):
            inner = m.group(1).strip()
            if inner.startswith("="):
                try:
                    check_syntax(inner[1:])
                except ExpressionError as exc:
                    yield where, None, str(exc)
                    continue
                # an expression template reads the steps it names (other names are checked
                # when it is evaluated)
                for step_id in iter_step_references(inner[1:]):
                    yield where, ["steps", step_id, "output"], m.group(0)
                continue
            try:
                yield where, parse_path(m.group(1)), m.group(0)
            except TemplateError as exc:
                yield where, None, str(exc)
        rest = TEMPLATE_RE.sub("", value)
        if "{{" in rest:  # would otherwise stay literal text, silently
            start = rest.index("{{")
            snippet = rest[start:start + 40].splitlines()[0]
            yield where, None, f"unclosed template: '{snippet}' has no closing }}}}"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_references(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_references(v, f"{where}[{i}]")
