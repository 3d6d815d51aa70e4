"""The workflow as a directed graph: topology, ancestry, cycles.

Plain dictionaries rather than networkx: the engine needs only these few walks, and importing
networkx costs a command-line run a tenth of a second before it starts (the editor's layout,
which uses more of it, still does)."""

from __future__ import annotations

from collections import defaultdict, deque

from flowdesk.model.workflow import Edge, Workflow

__all__ = ["WorkflowGraph"]


class WorkflowGraph:
    """A read-only view of a workflow's nodes and edges (edges to missing nodes ignored).
    Nothing changes it after it is built, so runs of one workflow may share it."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        # successors and predecessors in the order edges were drawn; several edges between
        # the same two steps (from different ports) are one arrow here
        self.succ: dict[str, dict[str, None]] = {node.id: {} for node in workflow.nodes}
        self.pred: dict[str, dict[str, None]] = {node.id: {} for node in workflow.nodes}
        self.incoming: dict[str, list[Edge]] = defaultdict(list)
        self.outgoing: dict[str, list[Edge]] = defaultdict(list)
        for edge in workflow.edges:
            if edge.source in self.succ and edge.target in self.succ:
                self.succ[edge.source][edge.target] = None
                self.pred[edge.target][edge.source] = None
                self.incoming[edge.target].append(edge)
                self.outgoing[edge.source].append(edge)
        self._ancestors: dict[str, frozenset[str]] = {}
        self._order: list[str] | None = None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.succ

    def find_cycle(self) -> list[str] | None:
        """The nodes of one cycle, in order, or None when the graph is acyclic."""
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        for root in self.succ:
            if root in state:
                continue
            path = [root]
            state[root] = 1
            stack = [iter(self.succ[root])]
            while stack:
                child = next(stack[-1], None)
                if child is None:
                    stack.pop()
                    state[path.pop()] = 2
                elif state.get(child) == 1:
                    return path[path.index(child):]
                elif child not in state:
                    state[child] = 1
                    path.append(child)
                    stack.append(iter(self.succ[child]))
        return None

    def is_acyclic(self) -> bool:
        return self.find_cycle() is None

    def ancestors(self, node_id: str) -> frozenset[str]:
        if node_id not in self._ancestors:
            self._ancestors[node_id] = frozenset(self._reach(node_id, self.pred))
        return self._ancestors[node_id]

    def descendants(self, node_id: str) -> frozenset[str]:
        return frozenset(self._reach(node_id, self.succ))

    def topological_order(self) -> list[str]:
        """Generation by generation (sources first, each in drawing order), as networkx's
        topological_sort gives it; raises ValueError on a cycle."""
        if self._order is None:
            indegree = {n: len(p) for n, p in self.pred.items() if p}
            generation = [n for n, p in self.pred.items() if not p]
            order: list[str] = []
            while generation:
                order.extend(generation)
                following: list[str] = []
                for node in generation:
                    for child in self.succ[node]:
                        indegree[child] -= 1
                        if indegree[child] == 0:
                            following.append(child)
                            del indegree[child]
                generation = following
            if indegree:
                raise ValueError("the workflow has a cycle")
            self._order = order
        return list(self._order)

    def sinks(self) -> list[str]:
        return [n for n, s in self.succ.items() if not s]

    def would_create_cycle(self, source: str, target: str) -> bool:
        return source == target or (
            target in self.succ and source in self.succ
            and source in self._reach(target, self.succ))

    @staticmethod
    def _reach(start: str, links: dict[str, dict[str, None]]) -> set[str]:
        seen: set[str] = set()
        queue = deque(links.get(start, ()))
        while queue:
            node = queue.popleft()
            if node not in seen:
                seen.add(node)
                queue.extend(links[node])
        seen.discard(start)  # on a cycle a node reaches itself; it is not its own ancestor
        return seen
