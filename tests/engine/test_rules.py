"""The graph rules (flowdesk.engine.rules): may two ports connect, is an edge live."""

from __future__ import annotations

import pytest

from flowdesk.engine.rules import (
    ConnectError,
    ConnectReason,
    EdgeState,
    check_connect,
    connect_problem,
    edge_live,
    edge_state,
)
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import Workflow
from flowdesk.steps import default_registry


def workflow() -> Workflow:
    return Workflow.model_validate({
        "name": "rules",
        "nodes": [{"id": "hook", "type": "webhook"}, {"id": "a", "type": "transform"},
                  {"id": "c", "type": "condition", "data": {"config": {"expression": "true"}}},
                  {"id": "b", "type": "transform"}],
        "edges": [{"id": "e1", "source": "a", "target": "c"},
                  {"id": "e2", "source": "c", "target": "b", "sourceHandle": "true"}],
    })


@pytest.mark.parametrize(("source", "handle", "target", "reason"), [
    ("a", None, "nowhere", ConnectReason.MISSING_STEP),
    ("a", None, "a", ConnectReason.SELF_LOOP),
    ("a", None, "hook", ConnectReason.INTO_TRIGGER),
    ("c", "maybe", "a", ConnectReason.UNKNOWN_HANDLE),
    ("c", "true", "b", ConnectReason.DUPLICATE),
    ("b", None, "a", ConnectReason.CYCLE),
])
def test_connect_problems_are_typed(source: str, handle: str | None, target: str,
                                    reason: ConnectReason) -> None:
    problem = connect_problem(workflow(), source, handle, target, default_registry())
    assert problem is not None and problem.reason is reason
    with pytest.raises(ConnectError) as raised:
        check_connect(workflow(), source, handle, target, default_registry())
    assert raised.value.reason is reason
    assert str(raised.value) == str(problem)


def test_a_fine_connection_has_no_problem() -> None:
    assert connect_problem(workflow(), "c", "false", "b", default_registry()) is None
    check_connect(workflow(), "a", None, "b", default_registry())


def test_the_cycle_message_names_the_rule() -> None:
    problem = connect_problem(workflow(), "b", None, "a", default_registry())
    assert str(problem) == "this connection would create a cycle"


@pytest.mark.parametrize(("status", "branch", "handle", "kwargs", "expected"), [
    (StepStatus.COMPLETED, None, None, {"branching": False}, EdgeState.LIVE),
    (StepStatus.COMPLETED, "true", "true", {"branching": True}, EdgeState.LIVE),
    (StepStatus.COMPLETED, "true", "false", {"branching": True}, EdgeState.DEAD),
    (StepStatus.COMPLETED, "true", "false", {}, EdgeState.DEAD),  # judged by the branch
    (StepStatus.SKIPPED, None, None, {}, EdgeState.DEAD),
    (StepStatus.FAILED, None, None, {"continue_on_error": True}, EdgeState.LIVE),
    (StepStatus.FAILED, None, "true",
     {"continue_on_error": True, "branching": True}, EdgeState.DEAD),
    (StepStatus.FAILED, None, None, {}, EdgeState.UNDECIDED),
    (StepStatus.RUNNING, None, None, {}, EdgeState.UNDECIDED),
    (StepStatus.WAITING, None, "approved", {}, EdgeState.UNDECIDED),
    (StepStatus.PENDING, None, None, {}, EdgeState.UNDECIDED),
])
def test_edge_state_after_a_decision(status: StepStatus, branch: str | None,
                                     handle: str | None, kwargs: dict[str, bool],
                                     expected: EdgeState) -> None:
    assert edge_state(status, branch, handle, **kwargs) is expected
    assert edge_live(status, branch, handle, **kwargs) is (expected is EdgeState.LIVE)
