"""Copy and paste of steps as data: what a paste adds to a workflow.

``paste_items`` takes a clipboard payload (``{"flowdesk": 1, "nodes", "edges"}``), gives
the pasted steps ids that are free in the target, places them around a point, and rewrites
the references among them (templates ``{{ steps.<id>... }}``, expressions ``steps.<id>...``,
``steps["<id>"]`` in code) to the new ids. A reference to a step that was not pasted is
left as it is: it still names that step, and validation says whether it is upstream.
No Qt here beyond plain data, so it is tested headless.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["PastedItems", "paste_items", "remap_step_refs"]

_DOTTED = re.compile(r"(?<![\w.])steps\.([A-Za-z0-9_-]+)")
_QUOTED = re.compile(r"""(?<![\w.])steps\[\s*(["'])([^"'\]]+)\1\s*\]""")
_GRID = 20.0


def _snap(value: float) -> float:
    return round(value / _GRID) * _GRID


def remap_step_refs(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` (any JSON) with every reference to a step in ``mapping`` renamed."""
    moved = {old: new for old, new in mapping.items() if old != new}
    if not moved:
        return value
    if isinstance(value, str):
        value = _DOTTED.sub(lambda m: f"steps.{moved.get(m.group(1), m.group(1))}", value)
        return _QUOTED.sub(lambda m: f"steps[{m.group(1)}{moved.get(m.group(2), m.group(2))}"
                                     f"{m.group(1)}]", value)
    if isinstance(value, list):
        return [remap_step_refs(v, moved) for v in value]
    if isinstance(value, dict):
        return {k: remap_step_refs(v, moved) for k, v in value.items()}
    return value


class PastedItems:
    """The nodes and edges a paste adds (JSON dicts) and old id → new id."""

    def __init__(self, nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
                 mapping: dict[str, str]) -> None:
        self.nodes = nodes
        self.edges = edges
        self.mapping = mapping


def _free_id(base: str, taken: set[str]) -> str:
    new_id, i = base, 2
    while new_id in taken:
        new_id = f"{base}_{i}"
        i += 1
    taken.add(new_id)
    return new_id


def paste_items(payload: Any, taken_nodes: Iterable[str], taken_edges: Iterable[str],
                center: tuple[float, float] | None = None, offset: float = 40.0,
                occupied: Iterable[tuple[float, float]] = (),
                size: tuple[float, float] = (220.0, 68.0)) -> PastedItems | None:
    """What pasting ``payload`` adds, or None when it is not a flowdesk clipboard.

    With ``center`` the pasted block is centred there (the user's mouse or the middle of
    the view); without it, it lands ``offset`` px from the original (Duplicate). If that
    puts the block's first step exactly on a step already at that spot, the block moves on
    by ``offset`` until it is free, so repeated pastes do not stack invisibly."""
    if not isinstance(payload, dict) or payload.get("flowdesk") != 1 or \
            not isinstance(payload.get("nodes"), list) or not payload["nodes"]:
        return None
    nodes = [n for n in copy.deepcopy(payload["nodes"]) if isinstance(n, dict) and "id" in n]
    if not nodes:
        return None
    taken = set(taken_nodes)
    mapping = {str(n["id"]): _free_id(str(n["id"]), taken) for n in nodes}
    positions = []
    for node in nodes:
        raw = node.get("position")
        pos: dict[str, Any] = raw if isinstance(raw, dict) else {}
        positions.append((float(pos.get("x", 0)), float(pos.get("y", 0))))
    if center is not None:
        left = min(x for x, _ in positions)
        top = min(y for _, y in positions)
        right = max(x for x, _ in positions) + size[0]
        bottom = max(y for _, y in positions) + size[1]
        dx = _snap(center[0] - (left + right) / 2)
        dy = _snap(center[1] - (top + bottom) / 2)
    else:
        dx = dy = offset
    busy = {(_snap(x), _snap(y)) for x, y in occupied}
    first = positions[0]
    while (_snap(first[0] + dx), _snap(first[1] + dy)) in busy:
        dx += offset
        dy += offset
    for node, (x, y) in zip(nodes, positions, strict=True):
        node["id"] = mapping[str(node["id"])]
        node["position"] = {"x": _snap(x + dx), "y": _snap(y + dy)}
        node["data"] = remap_step_refs(node.get("data", {}), mapping)
    edges = []
    edge_ids = set(taken_edges)
    counter = len(edge_ids) + 1
    for edge in copy.deepcopy(payload.get("edges") or []):
        if not isinstance(edge, dict) or edge.get("source") not in mapping or \
                edge.get("target") not in mapping:
            continue
        edge["source"], edge["target"] = mapping[edge["source"]], mapping[edge["target"]]
        while f"e{counter}" in edge_ids:
            counter += 1
        edge["id"] = f"e{counter}"
        edge_ids.add(edge["id"])
        edges.append(edge)
    return PastedItems(nodes, edges, mapping)
