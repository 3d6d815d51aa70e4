"""Convert an n8n workflow export into a flowdesk workflow, with a list of problems.

``is_n8n_export(data)`` recognises the export (top-level ``nodes`` whose entries have an
n8n ``type`` such as ``n8n-nodes-base.httpRequest`` / ``@n8n/...``, and ``connections`` keyed
by node *name*). ``convert_n8n(data)`` returns the flowdesk ``Workflow`` and the ``Problem``s
of what could not be translated, each on the node it concerns. Every n8n node becomes at
least one flowdesk node (unknown types become a transform placeholder that keeps the
original parameters); nothing is dropped. Node names become labels, ids are slugs of the
names (unique), ``[x, y]`` positions become ``{"x", "y"}``, and n8n sticky notes become
flowdesk notes. Each node with problems also gets a sticky note next to it listing them, and
keeps them (with its n8n type and version) under ``data.n8n`` — so they stay visible on the
canvas after the import.

Item references (``$json`` ...) are traced back through pass-through nodes (IF, Switch,
Filter, NoOp, a timed Wait) to the step that produced the item: ``steps.<id>.output...``, or
``input...`` when it is the trigger's.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from typing import Any

from flowdesk.importers.n8n_expr import PathPart
from flowdesk.importers.n8n_nodes import Converted, NodeContext, role_of
from flowdesk.importers.n8n_steps import convert_node
from flowdesk.importers.sniff import is_n8n_export
from flowdesk.model.errors import Problem, WorkflowFileError
from flowdesk.model.workflow import ERROR_PORT, Workflow

__all__ = ["convert_n8n", "is_n8n_export"]

# $json.error / $json["error"] / $json['error'] in JSON-encoded parameters
_READS_ERROR = re.compile(r"""\$json(\.error\b|\[\\?["']error)""")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"n_{slug}" if slug else "node"
    slug = slug[:48]
    return f"{slug}_step" if keyword.iskeyword(slug) else slug


class _Graph:
    """The n8n nodes by name, their flowdesk ids and their main inputs."""

    def __init__(self, nodes: list[dict[str, Any]], connections: Mapping[str, Any],
                 source: str) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        taken: set[str] = set()
        for i, node in enumerate(nodes):
            name = node.get("name")
            if not isinstance(name, str) or not name:
                raise WorkflowFileError(source, f"nodes[{i}]: an n8n node needs a 'name'")
            if name in self.nodes:
                raise WorkflowFileError(source, f"nodes[{i}]: two n8n nodes are named {name!r}")
            self.nodes[name] = node
            base = _slug(name)
            node_id, n = base, 2
            while node_id in taken:
                node_id, n = f"{base}_{n}", n + 1
            taken.add(node_id)
            self.ids[name] = node_id
        # (source name, output index, target name, connection type, target input index)
        self.links: list[tuple[str, int, str, str, int]] = []
        for src, outputs in connections.items():
            if src not in self.nodes or not isinstance(outputs, Mapping):
                raise WorkflowFileError(source, f"connections: {src!r} is not a node name")
            for ctype, lists in outputs.items():
                for index, targets in enumerate(lists or []):
                    for target in targets or []:
                        tname = target.get("node") if isinstance(target, Mapping) else None
                        if tname not in self.nodes:
                            raise WorkflowFileError(
                                source, f"connections[{src!r}].{ctype}[{index}]: unknown node "
                                        f"{tname!r}")
                        in_index = target.get("index", 0)
                        self.links.append((src, index, str(tname), str(ctype),
                                           in_index if isinstance(in_index, int) else 0))

    def main_inputs(self, name: str) -> list[str]:
        """The nodes feeding ``name``'s main inputs, by input index (then wiring order)."""
        links = [(i, s) for s, _, t, c, i in self.links if t == name and c == "main"]
        return [s for _, s in sorted(links, key=lambda pair: pair[0])]

    def first_main_link(self, name: str) -> tuple[str, int] | None:
        """(source, source output index) of the link into ``name``'s first main input."""
        links = [(i, s, o) for s, o, t, c, i in self.links if t == name and c == "main"]
        if not links:
            return None
        first = min(i for i, _, _ in links)  # then in wiring order, as main_inputs
        return next((s, o) for i, s, o in links if i == first)

    def input_of(self, name: str, index: int) -> list[str]:
        return [s for s, _, t, c, i in self.links if t == name and c == "main" and i == index]

    def sub_nodes(self, name: str) -> list[tuple[str, str]]:
        """(sub-node name, connection type) of the AI sub-nodes feeding ``name``."""
        return [(s, c) for s, _, t, c, _ in self.links if t == name and c != "main"]


class _Converter:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        raw_nodes = [n for n in data["nodes"] if isinstance(n, dict)]
        self.notes = [n for n in raw_nodes if n.get("type") == "n8n-nodes-base.stickyNote"]
        steps = [n for n in raw_nodes if n.get("type") != "n8n-nodes-base.stickyNote"]
        self.graph = _Graph(steps, data.get("connections") or {}, source)
        self.problems: list[Problem] = []
        self.source = source
        settings = data.get("settings")
        self.settings: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
        self._error_indexes: dict[str, int | None] = {}

    # -- item references ---------------------------------------------------------------------
    def root(self, name: str, seen: frozenset[str] = frozenset()) -> list[PathPart]:
        """The scope path of the item the node ``name`` outputs."""
        node = self.graph.nodes[name]
        role = role_of(node)
        if role.kind == "pass" and name not in seen:
            return self.incoming(name, seen | {name})
        if role.kind == "trigger":
            return ["input", *role.prefix]
        return ["steps", self.graph.ids[name], "output", *role.prefix]

    def incoming(self, name: str, seen: frozenset[str] = frozenset()) -> list[PathPart]:
        """The scope path of the item that arrives at ``name`` (its first main input). Out of
        an error output n8n passes on the item the failing node received: that one's."""
        link = self.graph.first_main_link(name)
        if link is None:
            return ["input"]
        source, output = link
        if source not in seen and output == self.error_index(source):
            return self.incoming(source, seen | {source})
        return self.root(source, seen)

    def error_index(self, name: str) -> int | None:
        """The output index of ``name``'s n8n error output (None: it has none)."""
        if name not in self._error_indexes:
            node = self.graph.nodes[name]
            self._error_indexes[name] = None  # also guards against loops
            if node.get("onError") == "continueErrorOutput":
                # a dry conversion tells how many ordinary outputs the node has
                dry = convert_node(node, NodeContext(self.graph.ids[name], name, node, self))
                self._error_indexes[name] = dry.error_index
        return self._error_indexes[name]

    def fed_by_error_output(self, name: str) -> str | None:
        """The node whose error output feeds ``name``'s first main input, if one does."""
        link = self.graph.first_main_link(name)
        if link is not None and link[1] == self.error_index(link[0]):
            return link[0]
        return None

    # -- conversion --------------------------------------------------------------------------
    def run(self, data: Mapping[str, Any]) -> Workflow:
        nodes: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        converted: dict[str, Converted] = {}
        consumed = {s for name in self.graph.nodes for s, _ in self.graph.sub_nodes(name)}
        for name, node in self.graph.nodes.items():
            if name in consumed and not self.graph.main_inputs(name) and not any(
                    s == name and c == "main" for s, _, _, c, _ in self.graph.links):
                continue  # an AI sub-node (model, memory...): folded into the node it feeds
            cx = NodeContext(self.graph.ids[name], name, node, self)
            conv = convert_node(node, cx)
            failing = self.fed_by_error_output(name)
            if failing is not None and _READS_ERROR.search(json.dumps(node.get("parameters"))):
                cx.problem(f"n8n's $json.error here is flowdesk's "
                           f"steps.{self.graph.ids[failing]}.output.error.message (the "
                           "error is an object: message, type, retriable, attempts); "
                           "$json is the item the failing node received")
            converted[name] = conv
            nodes.extend(conv.nodes)
            if cx.problems:
                self.problems.extend(cx.problems)
                conv.nodes[0]["data"]["n8n"]["problems"] = [
                    {"field": p.field, "message": p.message} for p in cx.problems]
                notes.append(self._problem_note(conv.nodes[0], cx.problems))
        edges = self._edges(converted)
        for note in self.notes:
            params = note.get("parameters") or {}
            x, y = _position(note)
            notes.append({"id": f"note{len(notes) + 1}", "text": str(params.get("content", "")),
                          "x": x, "y": y, "width": float(params.get("width", 220) or 220)})
        for i, note in enumerate(notes):
            note["id"] = f"note{i + 1}"
        workflow: dict[str, Any] = {
            "name": str(data.get("name") or "Imported from n8n"),
            "description": "Imported from n8n",
            "nodes": nodes, "edges": edges,
        }
        if notes:
            workflow["notes"] = notes
        return Workflow.from_dict(workflow, self.source)

    def _edges(self, converted: dict[str, Converted]) -> list[dict[str, Any]]:
        edges: list[dict[str, Any]] = []
        for conv in converted.values():
            edges.extend(conv.edges)
        for src, index, target, ctype, _ in self.graph.links:
            if ctype != "main" or src not in converted or target not in converted:
                continue
            conv = converted[src]
            if index == conv.error_index:
                for source_id in conv.error_sources:
                    self._add_edge(edges, {"source": source_id, "target":
                                           converted[target].entry,
                                           "sourceHandle": ERROR_PORT})
                continue
            port = conv.outputs.get(index)
            if port is None:
                self.problems.append(Problem(
                    code="n8n_import", node_id=converted[src].nodes[0]["id"],
                    message=f"n8n output {index} of {src!r} (to {target!r}) has no flowdesk "
                            "equivalent; that connection was not made"))
                continue
            edge: dict[str, Any] = {"source": port[0], "target": converted[target].entry}
            if port[1] is not None:
                edge["sourceHandle"] = port[1]
            self._add_edge(edges, edge)
        for i, edge in enumerate(edges):
            edge["id"] = f"e{i + 1}"
        return edges

    @staticmethod
    def _add_edge(edges: list[dict[str, Any]], edge: dict[str, Any]) -> None:
        if not any(e["source"] == edge["source"] and e["target"] == edge["target"]
                   and e.get("sourceHandle") == edge.get("sourceHandle") for e in edges):
            edges.append(edge)

    @staticmethod
    def _problem_note(node: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
        lines = [f"⚠ n8n import — {node['data']['label']}:"]
        lines += [f"• {p.field + ': ' if p.field else ''}{p.message}" for p in problems]
        pos = node["position"]
        return {"id": "", "text": "\n".join(lines), "x": pos["x"], "y": pos["y"] + 110,
                "width": 260}


def _position(node: Mapping[str, Any]) -> tuple[float, float]:
    pos = node.get("position")
    if isinstance(pos, list | tuple) and len(pos) == 2 and all(
            isinstance(v, int | float) for v in pos):
        return float(pos[0]), float(pos[1])
    if isinstance(pos, Mapping):
        return float(pos.get("x", 0) or 0), float(pos.get("y", 0) or 0)
    return 0.0, 0.0


def convert_n8n(data: Mapping[str, Any], source: str = "n8n workflow"
                ) -> tuple[Workflow, list[Problem]]:
    """The flowdesk workflow for an n8n export, and the problems found on the way."""
    converter = _Converter(data, source)
    workflow = converter.run(data)
    return workflow, converter.problems

