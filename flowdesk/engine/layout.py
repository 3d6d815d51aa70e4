"""Auto-layout: layered, left to right, from the graph (a small Sugiyama-style layout).

Layers come from the longest path from a source (networkx topological generations refined so
every edge points right); the order inside a layer is improved by a few barycenter sweeps to
reduce crossings. Returns positions; the caller pushes them as one undoable move.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from flowdesk.model.workflow import Workflow

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["layered_layout", "place_if_unplaced"]


def _barycenter(graph: nx.DiGraph, order: dict[str, int], node: str, forward: bool) -> float:
    neighbours = list(graph.predecessors(node) if forward else graph.successors(node))
    if not neighbours:
        return float(order[node])
    return sum(order[n] for n in neighbours) / len(neighbours)


def layered_layout(workflow: Workflow, x_gap: float = 280.0, y_gap: float = 120.0,
                   sweeps: int = 4) -> dict[str, tuple[float, float]]:
    import networkx as nx  # only when laying out: a tenth of a second to import

    graph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in workflow.nodes)
    graph.add_edges_from((e.source, e.target) for e in workflow.edges
                         if e.source in graph and e.target in graph)
    if not nx.is_directed_acyclic_graph(graph):
        # lay out what we can: drop the edges that close cycles
        graph.remove_edges_from(list(nx.find_cycle(graph)))
        while not nx.is_directed_acyclic_graph(graph):
            graph.remove_edges_from([nx.find_cycle(graph)[0]])
    layer: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        layer[node] = max((layer[p] + 1 for p in graph.predecessors(node)), default=0)
    layers: dict[int, list[str]] = {}
    original = {n.id: i for i, n in enumerate(workflow.nodes)}
    for node in sorted(layer, key=lambda n: (layer[n], original[n])):
        layers.setdefault(layer[node], []).append(node)
    order = {n: i for nodes in layers.values() for i, n in enumerate(nodes)}
    depth = max(layers) if layers else 0
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        indices = range(1, depth + 1) if forward else range(depth - 1, -1, -1)
        for index in indices:
            layers[index].sort(key=functools.partial(_barycenter, graph, order, forward=forward))
            for i, node in enumerate(layers[index]):
                order[node] = i
    positions = {}
    for index, nodes in layers.items():
        top = -(len(nodes) - 1) * y_gap / 2
        for i, node in enumerate(nodes):
            positions[node] = (index * x_gap, top + i * y_gap)
    return positions


def place_if_unplaced(workflow: Workflow, keep_from: Workflow | None = None) -> bool:
    """A workflow whose steps all sit at one point (a file written by hand or by a script,
    with no positions) is laid out, so it does not open as one pile of steps; True when it
    was. Steps that ``keep_from`` (the stored workflow this file updates) has keep their
    places there, so an update moves nothing the person placed. A workflow with any position
    of its own is left exactly as it is."""
    spots = {(n.position.x, n.position.y) for n in workflow.nodes}
    if len(workflow.nodes) < 2 or len(spots) > 1:
        return False
    kept = {n.id: n.position for n in keep_from.nodes} if keep_from is not None else {}
    for node_id, (x, y) in layered_layout(workflow).items():
        node = workflow.node(node_id)
        old = kept.get(node_id)
        node.position.x, node.position.y = (old.x, old.y) if old is not None else (x, y)
    return True
