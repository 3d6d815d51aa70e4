"""Property tests: random DAGs with random branches always end in a consistent state."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.engine import Engine
from flowdesk.model import RunStatus, StepStatus, Workflow
from flowdesk.store import open_store
from tests.helpers.registry import Journal, small_registry


@st.composite
def dags(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 12))
    nodes, edges = [], []
    conditions = set()
    for i in range(n):
        if draw(st.booleans()) and i < n - 1:
            verdict = draw(st.booleans())
            nodes.append({"id": f"n{i}", "type": "condition",
                          "data": {"config": {"expression": str(verdict).lower()}}})
            conditions.add(i)
        else:
            nodes.append({"id": f"n{i}", "type": "echo", "data": {"config": {"value": i}}})
    for j in range(1, n):
        for i in draw(st.sets(st.integers(0, j - 1), max_size=3)):
            edge = {"id": f"e{i}_{j}", "source": f"n{i}", "target": f"n{j}"}
            if i in conditions:
                edge["sourceHandle"] = draw(st.sampled_from(["true", "false"]))
            edges.append(edge)
    return {"name": "random", "nodes": nodes, "edges": edges,
            "settings": {"max_concurrency": draw(st.integers(1, 4))}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dag_runs_consistently(definition: dict) -> None:
    workflow = Workflow.model_validate(definition)
    journal = Journal()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "t.db")

        async def go():
            engine = Engine(store, small_registry(journal))
            try:
                return await engine.run(workflow)
            finally:
                await engine.aclose()

        run = asyncio.run(go())
        events = store.get_events(run.id)
        store.close()
    assert run.status is RunStatus.COMPLETED
    final = {sid: s.status for sid, s in run.steps.items()}
    # every node ends completed or skipped, never both, never twice
    assert set(final.values()) <= {StepStatus.COMPLETED, StepStatus.SKIPPED}
    starts = journal.order("start")
    assert len(starts) == len(set(starts))
    assert {s for s in final if final[s] is StepStatus.COMPLETED and
            workflow.node(s).type == "echo"} == set(starts)
    # no node runs before its upstream steps finished
    finished_seq = {e.step_id: e.seq for e in events
                    if e.type.value in ("step.completed", "step.skipped")}
    started_seq = {e.step_id: e.seq for e in events if e.type.value == "step.started"}
    for edge in workflow.edges:
        if edge.target in started_seq:
            assert finished_seq[edge.source] < started_seq[edge.target]
    # a node runs iff some incoming edge is live (or it is a root)
    for node in workflow.nodes:
        incoming = [e for e in workflow.edges if e.target == node.id]
        live = [e for e in incoming if final[e.source] is StepStatus.COMPLETED and (
            e.source_handle is None or e.source_handle == run.steps[e.source].branch)]
        expected = StepStatus.COMPLETED if (not incoming or live) else StepStatus.SKIPPED
        assert final[node.id] is expected, node.id
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
