"""One n8n node → flowdesk node(s): the role table and the shared conversion context.

``role_of(node)`` says how an n8n node's item is reached from later expressions: a
``trigger`` (its item is the run ``input``), a ``pass``-through node (IF, Switch, Filter,
NoOp, a timed Wait: the item is the one that came in) or a ``producer`` (``steps.<id>.output``
plus a prefix: an HTTP Request's item is ``output.body``, a Code node's ``output.result``).
``convert_node`` dispatches to the mappers in ``n8n_steps`` and returns a ``Converted``:
the flowdesk node dicts, the entry node, and which flowdesk node/port each n8n output
index leaves from. A node type without a mapper becomes a transform placeholder carrying
the original parameters, with a problem.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowdesk.importers.n8n_expr import (
    PathPart,
    Untranslatable,
    lenient,
    py_path,
    translate_js,
    translate_value,
)
from flowdesk.model.errors import Problem

__all__ = ["ROLES", "Converted", "NodeContext", "Role", "json_with_expressions", "role_of"]


@dataclass(frozen=True)
class Role:
    kind: str  # "trigger" | "pass" | "producer"
    prefix: tuple[PathPart, ...] = ()


_TRIGGER = Role("trigger")
_PASS = Role("pass")
_LLM = Role("producer", ("__llm__",))
ROLES: dict[str, Role] = {
    "n8n-nodes-base.manualTrigger": _TRIGGER, "n8n-nodes-base.webhook": _TRIGGER,
    "n8n-nodes-base.scheduleTrigger": _TRIGGER, "n8n-nodes-base.cron": _TRIGGER,
    "n8n-nodes-base.interval": _TRIGGER, "n8n-nodes-base.executeWorkflowTrigger": _TRIGGER,
    "n8n-nodes-base.start": _TRIGGER,
    "n8n-nodes-base.if": _PASS, "n8n-nodes-base.switch": _PASS, "n8n-nodes-base.filter": _PASS,
    "n8n-nodes-base.noOp": _PASS,
    "n8n-nodes-base.httpRequest": Role("producer", ("body",)),
    "n8n-nodes-base.code": Role("producer", ("result",)),
    "n8n-nodes-base.function": Role("producer", ("result",)),
    "n8n-nodes-base.functionItem": Role("producer", ("result",)),
    "n8n-nodes-base.postgres": Role("producer", ("rows", 0)),
    "n8n-nodes-base.mySql": Role("producer", ("rows", 0)),
    "n8n-nodes-base.openAi": _LLM, "@n8n/n8n-nodes-langchain.openAi": _LLM,
    "@n8n/n8n-nodes-langchain.chainLlm": _LLM, "@n8n/n8n-nodes-langchain.agent": _LLM,
}


def role_of(node: dict[str, Any]) -> Role:
    kind = str(node.get("type", ""))
    if kind == "n8n-nodes-base.wait":
        resume = (node.get("parameters") or {}).get("resume", "timeInterval")
        return _PASS if resume in ("timeInterval", "specificTime") else Role("producer",
                                                                             ("data",))
    return ROLES.get(kind, Role("producer"))


class Tracer(Protocol):
    def root(self, name: str) -> list[PathPart]: ...
    def incoming(self, name: str) -> list[PathPart]: ...


@dataclass
class Converted:
    nodes: list[dict[str, Any]]
    entry: str
    outputs: dict[int, tuple[str, str | None]]
    edges: list[dict[str, Any]] = field(default_factory=list)
    # n8n's error output (``onError: continueErrorOutput``): its output index, and the
    # flowdesk nodes whose ``error`` port each connection from it leaves through
    error_index: int | None = None
    error_sources: list[str] = field(default_factory=list)


def _fix_llm(path: list[PathPart]) -> list[PathPart]:
    """n8n's LLM nodes put the answer in ``message.content``, ``text`` or ``output``;
    flowdesk's llm_call in ``text``."""
    if "__llm__" not in path:
        return path
    k = path.index("__llm__")
    rest = path[k + 1:]
    if rest[:2] == ["message", "content"]:
        rest = ["text", *rest[2:]]
    elif rest[:1] in (["output"], ["content"], ["response"]):
        rest = ["text", *rest[1:]]
    return [*path[:k], *rest]


class NodeContext:
    """What a mapper needs: the node, its id, expression translation that traces items, and
    a place to put problems (each names this node and the field)."""

    def __init__(self, node_id: str, name: str, node: dict[str, Any], tracer: Any) -> None:
        self.id = node_id
        self.name = name
        self.node = node
        self.params: dict[str, Any] = node.get("parameters") or {}
        self.version = float(node.get("typeVersion", 1) or 1)
        self.tracer: Tracer = tracer
        self.problems: list[Problem] = []

    # -- problems ----------------------------------------------------------------------------
    def problem(self, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(code="n8n_import", node_id=self.id, field=field,
                                     message=message))

    # -- item references ---------------------------------------------------------------------
    def resolve(self, kind: str, target: str | None) -> list[PathPart]:
        if kind == "json":
            return self.tracer.incoming(self.name)
        assert target is not None
        try:
            return self.tracer.root(target)
        except KeyError:
            raise Untranslatable(f"there is no node named {target!r}") from None

    def _resolver(self) -> Callable[[str, str | None], list[PathPart]]:
        return lambda kind, target: self.resolve(kind, target)

    def incoming_path(self) -> list[PathPart]:
        return _fix_llm(self.tracer.incoming(self.name))

    def incoming_template(self) -> str:
        return "{{ " + py_path(self.incoming_path()) + " }}"

    def path_of(self, name: str) -> list[PathPart]:
        return _fix_llm(self.tracer.root(name))

    # -- values ------------------------------------------------------------------------------
    def value(self, value: Any, field: str) -> Any:
        """A parameter value with its n8n expressions translated into templates."""
        if isinstance(value, str):
            if not value.startswith("=") and "{{" in value:
                # plain text in n8n, but flowdesk would read it as a template
                self.problem("the literal text '{{' was written as '{ {' so that flowdesk "
                             "does not read it as a template", field)
                return value.replace("{{", "{ {")
            out, problems = translate_value(value, self._resolver())
            for message in problems:
                self.problem(message, field)
            return _fix_templates(out) if isinstance(out, str) else out
        if isinstance(value, dict):
            if value.get("__rl"):
                return self.value(value.get("value", ""), field)
            return {k: self.value(v, f"{field}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{field}[{i}]") for i, v in enumerate(value)]
        return copy.deepcopy(value)

    def operand(self, value: Any, hint: str, field: str, missing_ok: bool = False) -> str:
        """A condition side as expression text (raises Untranslatable); with ``missing_ok``
        a path whose last key is missing reads as null (exists / empty checks)."""
        if isinstance(value, str) and value.startswith("="):
            body = value[1:].strip()
            if body.startswith("{{") and body.endswith("}}") and body.count("{{") == 1:
                expr = translate_js(body[2:-2], self._resolver())
                if expr.path is not None:
                    expr.path = _fix_llm(expr.path)
                    return lenient(expr) if missing_ok else py_path(expr.path)
                return _fix_expr(expr.py)
            text, problems = translate_value(value, self._resolver())
            if problems:
                raise Untranslatable("; ".join(problems))
            return _text_as_expression(str(text))
        if hint == "number" and isinstance(value, str):
            try:
                return repr(float(value) if "." in value else int(value))
            except ValueError:
                return json.dumps(value)
        if hint == "boolean" and isinstance(value, str):
            return "true" if value.lower() == "true" else "false"
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        return json.dumps(value, ensure_ascii=False)

    def credential(self) -> str | None:
        """The flowdesk credential name for the node's n8n credential (with a problem
        asking to create it), or None when the node has none."""
        creds = self.node.get("credentials") or {}
        for kind, ref in creds.items():
            label = ref.get("name") if isinstance(ref, dict) else None
            name = "".join(c if c.isalnum() else "_" for c in str(label or kind)).upper()
            name = name.strip("_") or "CREDENTIAL"
            self.problem(f"uses the n8n {kind} credential {label!r}: store it as the flowdesk "
                         f"credential '{name}' (`flowdesk secrets set {name} --json`) or set "
                         "another credential name", "credential")
            return name
        return None

    # -- building nodes ----------------------------------------------------------------------
    def make(self, step_type: str, config: dict[str, Any], suffix: str = "",
             label: str | None = None, dx: float = 0, dy: float = 0) -> dict[str, Any]:
        pos = self.node.get("position")
        x, y = (pos if isinstance(pos, list) and len(pos) == 2 else (0, 0))
        data: dict[str, Any] = {"label": label or self.name, "config": config,
                                "n8n": {"type": self.node.get("type"),
                                        "typeVersion": self.node.get("typeVersion")}}
        if self.node.get("retryOnFail"):
            tries = int(self.node.get("maxTries", 3) or 3)
            wait = float(self.node.get("waitBetweenTries", 1000) or 0) / 1000
            data["retry"] = {"max_attempts": max(1, min(tries, 100)), "backoff": "fixed",
                             "base_seconds": wait}
        on_error = self.node.get("onError")
        if self.node.get("continueOnFail") or on_error == "continueRegularOutput":
            data["continue_on_error"] = True
        return {"id": self.id + suffix, "type": step_type,
                "position": {"x": float(x) + dx, "y": float(y) + dy}, "data": data}

    def single(self, step_type: str, config: dict[str, Any]) -> Converted:
        node = self.make(step_type, config)
        return Converted([node], node["id"], {0: (node["id"], None)})


def _fix_templates(text: str) -> str:
    """Apply the LLM output renaming inside translated templates."""
    if "__llm__" not in text:
        return text
    for old, new in ((".__llm__.message.content", ".text"), (".__llm__.output", ".text"),
                     (".__llm__.content", ".text"), (".__llm__.response", ".text"),
                     (".__llm__", "")):
        text = text.replace(old, new)
    return text


_fix_expr = _fix_templates


def _text_as_expression(text: str) -> str:
    """Mixed text with ``{{ }}`` templates as a string-concatenation expression."""
    import re

    pieces: list[str] = []
    for i, chunk in enumerate(re.split(r"\{\{=?(.*?)\}\}", text)):
        if i % 2:
            pieces.append(f"str({chunk.strip()})")
        elif chunk:
            pieces.append(json.dumps(chunk, ensure_ascii=False))
    return " + ".join(pieces) or '""'


def json_with_expressions(text: str, cx: NodeContext, field: str) -> Any:
    """A JSON text with ``{{ }}`` expressions (n8n's jsonBody / jsonOutput) as a JSON value
    with templates; when it is not JSON, the translated text."""
    body = text[1:] if text.startswith("=") else text
    marks: dict[str, str] = {}

    def mark(m: re.Match[str]) -> str:
        key = f"@@n8n{len(marks)}@@"
        marks[key] = m.group(0)
        return key

    masked = re.sub(r"\{\{.*?\}\}", mark, body, flags=re.DOTALL)
    quoted = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("@@", "##"), masked)
    bare = re.sub(r"@@n8n\d+@@", lambda m: json.dumps(m.group(0)), quoted).replace("##", "@@")
    try:
        parsed = json.loads(bare)
    except ValueError:
        cx.problem("the JSON is not valid JSON once its expressions are taken out; it is sent "
                   "as text", field)
        return cx.value("=" + body, field)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            if value in marks:
                return cx.value("=" + marks[value], field)
            for key, expr in marks.items():
                if key in value:
                    value = value.replace(key, str(cx.value("=" + expr, field)))
            return value
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(parsed)
