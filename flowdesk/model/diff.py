"""The difference between two workflow definitions, step by step and edge by edge.

Contract: ``diff_workflows(old, new)`` is a pure function. Steps are matched by id: a step
only in ``new`` is added, only in ``old`` removed; a step in both is changed when its type,
label, config, retry, timeout, continue_on_error, on_error or position differ, and the change
names each differing field as a dotted path (``config.expression``, ``position``). Edges are
matched by what they connect (source, port, target), not by their id, so re-wiring shows as
one removed and one added edge. The workflow's own description, input schema and run
settings show as ``workflow`` field changes. ``format_change`` writes one line per change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from flowdesk.model.workflow import Edge, Workflow

__all__ = [
    "EdgeChange",
    "FieldChange",
    "StepChange",
    "WorkflowDiff",
    "diff_workflows",
    "format_change",
]


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class StepChange:
    kind: Literal["added", "removed", "changed"]
    step_id: str
    type: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class EdgeChange:
    kind: Literal["added", "removed"]
    source: str
    target: str
    handle: str | None


@dataclass(frozen=True)
class WorkflowDiff:
    steps: list[StepChange] = field(default_factory=list)
    edges: list[EdgeChange] = field(default_factory=list)
    workflow: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.steps or self.edges or self.workflow)

    def lines(self) -> list[str]:
        out = [f"~ workflow: {_field_text(c)}" for c in self.workflow]
        out += [format_change(c) for c in self.steps]
        out += [format_change(c) for c in self.edges]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": [{"field": c.path, "old": c.old, "new": c.new} for c in self.workflow],
            "steps": [{"change": s.kind, "id": s.step_id, "type": s.type,
                       "fields": [{"field": c.path, "old": c.old, "new": c.new}
                                  for c in s.fields]} for s in self.steps],
            "edges": [{"change": e.kind, "source": e.source, "target": e.target,
                       "handle": e.handle} for e in self.edges],
        }


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    """Dicts flattened to dotted paths; lists and scalars are leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    a, b = _flat(old, ""), _flat(new, "")
    return tuple(FieldChange(path, a.get(path), b.get(path))
                 for path in sorted(set(a) | set(b)) if a.get(path) != b.get(path))


def _step_view(node: Any) -> dict[str, Any]:
    data = node.data.model_dump(mode="json", exclude_none=True)
    view: dict[str, Any] = {"type": node.type, **data}
    # a position is one field: "moved", not two coordinates
    view["position"] = [node.position.x, node.position.y]
    return view


def _edge_key(edge: Edge) -> tuple[str, str, str | None]:
    return (edge.source, edge.target, edge.source_handle)


def diff_workflows(old: Workflow, new: Workflow) -> WorkflowDiff:
    result = WorkflowDiff()
    old_nodes = {n.id: n for n in old.nodes}
    new_nodes = {n.id: n for n in new.nodes}
    for node in new.nodes:
        if node.id not in old_nodes:
            result.steps.append(StepChange("added", node.id, node.type))
    for node in old.nodes:
        if node.id not in new_nodes:
            result.steps.append(StepChange("removed", node.id, node.type))
    for node in new.nodes:
        before = old_nodes.get(node.id)
        if before is None:
            continue
        fields = _field_changes(_step_view(before), _step_view(node))
        if fields:
            result.steps.append(StepChange("changed", node.id, node.type, fields))
    old_edges = {_edge_key(e) for e in old.edges}
    new_edges = {_edge_key(e) for e in new.edges}
    for key in sorted(new_edges - old_edges, key=str):
        result.edges.append(EdgeChange("added", *key))
    for key in sorted(old_edges - new_edges, key=str):
        result.edges.append(EdgeChange("removed", *key))
    top = ("description", "input_schema", "settings")
    result.workflow.extend(_field_changes(
        {k: v for k, v in old.to_dict().items() if k in top},
        {k: v for k, v in new.to_dict().items() if k in top}))
    return result


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _json(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _json(value: Any) -> str:

    return json.dumps(value, ensure_ascii=False, default=str)


def _field_text(change: FieldChange) -> str:
    if change.old is None:
        return f"{change.path} set to {_short(change.new)}"
    if change.new is None:
        return f"{change.path} removed (was {_short(change.old)})"
    return f"{change.path} {_short(change.old)} → {_short(change.new)}"


def format_change(change: StepChange | EdgeChange) -> str:
    if isinstance(change, EdgeChange):
        sign = "+" if change.kind == "added" else "-"
        port = f" [{change.handle}]" if change.handle else ""
        return f"{sign} edge {change.source} → {change.target}{port}"
    if change.kind == "added":
        return f"+ step {change.step_id} ({change.type})"
    if change.kind == "removed":
        return f"- step {change.step_id} ({change.type})"
    return f"~ step {change.step_id}: " + "; ".join(_field_text(c) for c in change.fields)
