"""The engine's graph walks agree with networkx (which the editor's layout still uses) on
random graphs: the same topological order, ancestors and descendants, and a real cycle."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engine.graph import WorkflowGraph
from flowdesk.model.workflow import Workflow


def _workflow(n: int, pairs: list[tuple[int, int]]) -> Workflow:
    nodes = [{"id": f"n{i}", "type": "transform", "data": {"config": {"output": i}}}
             for i in range(n)]
    edges = [{"id": f"e{k}", "source": f"n{a}", "target": f"n{b}"}
             for k, (a, b) in enumerate(pairs)]
    return Workflow.model_validate({"name": "g", "nodes": nodes, "edges": edges})


graphs = st.integers(min_value=1, max_value=12).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                         max_size=30)))


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_walks_agree_with_networkx(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = graph
    pairs = [(a, b) for a, b in pairs if a != b]
    ours = WorkflowGraph(_workflow(n, pairs))
    theirs = nx.DiGraph()
    theirs.add_nodes_from(f"n{i}" for i in range(n))
    theirs.add_edges_from((f"n{a}", f"n{b}") for a, b in pairs)
    acyclic = nx.is_directed_acyclic_graph(theirs)
    assert ours.is_acyclic() == acyclic
    for node in theirs.nodes:
        assert ours.ancestors(node) == nx.ancestors(theirs, node)
        assert ours.descendants(node) == nx.descendants(theirs, node)
    if acyclic:
        assert ours.topological_order() == list(nx.topological_sort(theirs))
        assert ours.sinks() == [v for v in theirs.nodes if theirs.out_degree(v) == 0]
    else:
        cycle = ours.find_cycle()
        assert cycle is not None and len(set(cycle)) == len(cycle)
        for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            assert theirs.has_edge(a, b)
    for a in range(n):
        for b in range(n):
            source, target = f"n{a}", f"n{b}"
            expected = a == b or nx.has_path(theirs, target, source)
            assert ours.would_create_cycle(source, target) == expected
