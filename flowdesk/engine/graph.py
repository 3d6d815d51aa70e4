"""The workflow as a networkx graph: topology, ancestry, cycles."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from flowdesk.model.workflow import Edge, Workflow

__all__ = ["WorkflowGraph"]


class WorkflowGraph:
    """A read-only view of a workflow's nodes and edges (edges to missing nodes ignored)."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.graph: nx.DiGraph = nx.DiGraph()
        self.incoming: dict[str, list[Edge]] = defaultdict(list)
        self.outgoing: dict[str, list[Edge]] = defaultdict(list)
        for node in workflow.nodes:
            self.graph.add_node(node.id)
        for edge in workflow.edges:
            if edge.source in self.graph and edge.target in self.graph:
                self.graph.add_edge(edge.source, edge.target)
                self.incoming[edge.target].append(edge)
                self.outgoing[edge.source].append(edge)
        self._ancestors: dict[str, frozenset[str]] = {}

    def find_cycle(self) -> list[str] | None:
        """The nodes of one cycle, in order, or None when the graph is acyclic."""
        try:
            cycle = nx.find_cycle(self.graph)
        except nx.NetworkXNoCycle:
            return None
        return [u for u, _v, *_ in cycle]

    def is_acyclic(self) -> bool:
        return bool(nx.is_directed_acyclic_graph(self.graph))

    def ancestors(self, node_id: str) -> frozenset[str]:
        if node_id not in self._ancestors:
            self._ancestors[node_id] = frozenset(nx.ancestors(self.graph, node_id))
        return self._ancestors[node_id]

    def descendants(self, node_id: str) -> frozenset[str]:
        return frozenset(nx.descendants(self.graph, node_id))

    def topological_order(self) -> list[str]:
        return list(nx.topological_sort(self.graph))

    def sinks(self) -> list[str]:
        return [n for n in self.graph.nodes if self.graph.out_degree(n) == 0]

    def would_create_cycle(self, source: str, target: str) -> bool:
        return source == target or (
            target in self.graph
            and source in self.graph
            and nx.has_path(self.graph, target, source)
        )
