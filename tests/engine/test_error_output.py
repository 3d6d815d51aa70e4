"""The error port (``on_error: "error_output"``): a failure leaves through ``error`` and the
run goes on; a success leaves through the ordinary output. Real engine, real SQLite."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine import Engine
from flowdesk.engine.rules import ConnectReason, EdgeState, connect_problem, edge_state
from flowdesk.engine.validation import validate
from flowdesk.model import EventType, RunStatus, StepStatus, Workflow
from flowdesk.steps import default_registry
from tests.engine.test_executor import W, statuses, step_status, until
from tests.helpers.registry import Journal, wf

ROUTED = {"on_error": "error_output"}


def routed_flow(failures: int, **bad: object) -> Workflow:
    """bad --error--> handler;  bad --> next;  handler, next --> join."""
    return W(
        [{"id": "bad", "type": "flaky",
          "config": {"failures": failures, "retriable": False, "message": "{{ input.why }}"},
          **ROUTED, **bad},
         {"id": "handler", "type": "transform",
          "config": {"output": {"message": "{{ steps.bad.output.error.message }}",
                                "type": "{{ steps.bad.output.error.type }}",
                                "attempts": "{{ steps.bad.output.error.attempts }}",
                                "asked": "{{ steps.bad.output.input.message }}",
                                "status": "{{ steps.bad.status }}"}}},
         {"id": "next", "type": "transform", "config": {"output": "{{ steps.bad.output }}"}},
         {"id": "join", "config": {"value": "joined"}}],
        [("bad", "handler", "error"), ("bad", "next"), ("handler", "join"), ("next", "join")])


async def test_a_failure_goes_out_through_the_error_port(engine: Engine) -> None:
    run = await engine.run(routed_flow(failures=1), {"why": "card declined"})
    assert run.status is RunStatus.COMPLETED
    assert run.error is None
    assert statuses(run) == {"bad": "failed", "handler": "completed", "next": "skipped",
                             "join": "completed"}
    bad = run.steps["bad"]
    assert bad.branch == "error"
    assert bad.error == "card declined #1"
    assert bad.output == {
        "error": {"message": "card declined #1", "type": "step", "retriable": False,
                  "attempts": 1},
        # the rendered config, defaults left out
        "input": {"retriable": False, "message": "card declined"},
    }
    assert run.steps["handler"].output == {"message": "card declined #1", "type": "step",
                                           "attempts": 1, "asked": "card declined",
                                           "status": "failed"}
    failed = [e for e in engine.store.get_events(run.id) if e.type is EventType.STEP_FAILED]
    assert failed[0].payload["branch"] == "error"
    assert failed[0].payload["continued"] is True
    assert failed[0].payload["output"] == bad.output


async def test_a_success_goes_out_through_the_ordinary_output(engine: Engine) -> None:
    run = await engine.run(routed_flow(failures=0), {"why": "fine"})
    assert run.status is RunStatus.COMPLETED
    assert statuses(run) == {"bad": "completed", "handler": "skipped", "next": "completed",
                             "join": "completed"}
    assert run.steps["bad"].branch is None
    assert run.steps["next"].output == {"attempt": 1}


async def test_the_error_port_takes_the_failure_only_after_the_retries(
        engine: Engine, journal: Journal) -> None:
    run = await engine.run(W(
        [{"id": "bad", "type": "flaky", "config": {"failures": 5}, **ROUTED,
          "retry": {"max_attempts": 3, "backoff": "fixed", "base_seconds": 0.01}},
         {"id": "handler", "type": "transform",
          "config": {"output": "{{ steps.bad.output.error }}"}},
         {"id": "next"}],
        [("bad", "handler", "error"), ("bad", "next")]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["bad"].attempts == 3
    assert [a.error for a in run.steps["bad"].attempt_log] == [
        "flaky failure #1", "flaky failure #2", "flaky failure #3"]
    assert run.steps["handler"].output == {"message": "flaky failure #3", "type": "step",
                                           "retriable": True, "attempts": 3}
    assert statuses(run)["next"] == "skipped"
    retrying = [e for e in engine.store.get_events(run.id)
                if e.type is EventType.STEP_RETRYING]
    assert len(retrying) == 2


async def test_a_retry_that_succeeds_never_takes_the_error_port(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "bad", "type": "flaky", "config": {"failures": 2}, **ROUTED,
          "retry": {"max_attempts": 3, "backoff": "fixed", "base_seconds": 0.01}},
         {"id": "handler"}, {"id": "next"}],
        [("bad", "handler", "error"), ("bad", "next")]))
    assert statuses(run) == {"bad": "completed", "handler": "skipped", "next": "completed"}
    assert run.steps["bad"].attempts == 3


async def test_a_template_error_is_routed_too_with_no_input(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "bad", "type": "transform", "config": {"output": "{{ input.missing }}"},
          **ROUTED},
         {"id": "handler", "type": "transform",
          "config": {"output": "{{ steps.bad.output }}"}}],
        [("bad", "handler", "error")]))
    assert run.status is RunStatus.COMPLETED
    out = run.steps["handler"].output
    assert out["error"]["type"] == "template"
    assert "input.missing" in out["error"]["message"]
    assert out["input"] is None


async def test_the_error_port_wins_over_continue_on_error(engine: Engine) -> None:
    run = await engine.run(routed_flow(failures=1, continue_on_error=True), {"why": "x"})
    assert statuses(run)["next"] == "skipped"
    assert statuses(run)["handler"] == "completed"


async def test_a_branching_step_with_an_error_port(engine: Engine) -> None:
    def flow(expression: str) -> Workflow:
        return W([{"id": "c", "type": "condition", "config": {"expression": expression},
                   **ROUTED},
                  {"id": "yes"}, {"id": "no"}, {"id": "oops"}],
                 [("c", "yes", "true"), ("c", "no", "false"), ("c", "oops", "error")])

    ok = await engine.run(flow("1 > 0"))
    assert statuses(ok) == {"c": "completed", "yes": "completed", "no": "skipped",
                            "oops": "skipped"}
    broken = await engine.run(flow("1 / 0 > 0"))
    assert broken.status is RunStatus.COMPLETED
    assert statuses(broken) == {"c": "failed", "yes": "skipped", "no": "skipped",
                                "oops": "completed"}
    assert broken.steps["c"].output["error"]["type"] == "expression"


async def test_resume_after_a_crash_keeps_the_routed_failure(engine: Engine,
                                                             journal: Journal) -> None:
    workflow = W(
        [{"id": "bad", "type": "flaky", "config": {"failures": 1, "retriable": False},
          **ROUTED},
         {"id": "handler", "config": {"value": "handled", "sleep": 0.5}},
         {"id": "next"},
         {"id": "after", "type": "transform",
          "config": {"output": "{{ steps.bad.output.error.message }}"}}],
        [("bad", "handler", "error"), ("bad", "next"), ("handler", "after")])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    await until(lambda: step_status(engine, run.id, "handler") is StepStatus.RUNNING)
    # committed before the "crash": the failure, the port it took and its output
    stored = engine.store.get_run(run.id)
    assert stored.steps["bad"].status is StepStatus.FAILED
    assert stored.steps["bad"].branch == "error"
    assert stored.steps["bad"].output["error"]["message"] == "flaky failure #1"
    assert stored.steps["next"].status is StepStatus.SKIPPED
    engine.shutting_down = True  # the process stops: the run stays resumable
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    engine.shutting_down = False
    assert engine.store.get_run(run.id).status is RunStatus.RUNNING
    attempts_before = dict(journal.attempts)

    done = await engine.execute(run.id)  # the next start resumes it
    assert done.status is RunStatus.COMPLETED
    assert journal.attempts == attempts_before  # 'bad' was not executed again
    assert statuses(done) == {"bad": "failed", "handler": "completed", "next": "skipped",
                              "after": "completed"}
    assert done.steps["after"].output == "flaky failure #1"
    assert journal.started("handler") == ["handler", "handler"]


async def test_a_crash_of_a_handler_is_routed_as_internal(engine: Engine) -> None:
    run = await engine.run(W([{"id": "b", "type": "boom", **ROUTED}, {"id": "h"}],
                             [("b", "h", "error")]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["b"].output["error"] == {
        "message": "internal error: RuntimeError: a bug in a handler", "type": "internal",
        "retriable": False, "attempts": 1}
    assert statuses(run)["h"] == "completed"


def test_edge_state_of_the_error_port() -> None:
    failed, completed = StepStatus.FAILED, StepStatus.COMPLETED
    assert edge_state(failed, "error", "error") is EdgeState.LIVE
    assert edge_state(failed, "error", None) is EdgeState.DEAD
    assert edge_state(failed, None, "error", error_output=True) is EdgeState.LIVE
    assert edge_state(failed, None, "true", error_output=True,
                      branching=True) is EdgeState.DEAD
    assert edge_state(failed, None, None, error_output=True,
                      continue_on_error=True) is EdgeState.DEAD
    assert edge_state(completed, None, "error", error_output=True) is EdgeState.DEAD
    assert edge_state(completed, None, None, error_output=True) is EdgeState.LIVE
    assert edge_state(completed, "true", "error", branching=True) is EdgeState.DEAD
    assert edge_state(StepStatus.SKIPPED, None, "error") is EdgeState.DEAD
    assert edge_state(StepStatus.RUNNING, None, "error", error_output=True) \
        is EdgeState.UNDECIDED


def test_an_edge_from_the_error_port_needs_the_setting() -> None:
    def problems(on_error: str | None) -> list[tuple[str, str | None, str | None]]:
        data: dict[str, object] = {} if on_error is None else {"on_error": on_error}
        workflow = Workflow.model_validate(wf(
            [{"id": "a", "type": "transform", "config": {"output": 1}, **data},
             {"id": "c", "type": "condition", "config": {"expression": "true"}, **data},
             {"id": "b", "type": "transform", "config": {"output": 2}}],
            [("a", "b", "error"), ("c", "b", "error")]))
        return [(p.code, p.edge_id, p.node_id) for p in validate(workflow,
                                                                default_registry())]

    assert problems(None) == [("no_error_port", "e0", "a"), ("no_error_port", "e1", "c")]
    assert problems("error_output") == []


def test_old_files_stay_valid_and_unset_is_left_out() -> None:
    plain = Workflow.model_validate(wf([{"id": "a", "type": "transform"}]))
    assert plain.nodes[0].data.on_error is None
    assert "on_error" not in plain.to_dict()["nodes"][0]["data"]
    routed = Workflow.model_validate(wf([{"id": "a", "type": "transform", **ROUTED}]))
    assert routed.nodes[0].data.error_output
    assert routed.to_dict()["nodes"][0]["data"]["on_error"] == "error_output"


def test_connecting_from_the_error_port_follows_the_setting() -> None:
    def flow(data: dict[str, object]) -> Workflow:
        return Workflow.model_validate(wf(
            [{"id": "a", "type": "transform", **data},
             {"id": "c", "type": "condition", "config": {"expression": "true"}, **data},
             {"id": "b", "type": "transform"}]))

    registry = default_registry()
    for source in ("a", "c"):
        refused = connect_problem(flow({}), source, "error", "b", registry)
        assert refused is not None and refused.reason is ConnectReason.UNKNOWN_HANDLE
        assert "no error port" in str(refused)
        assert connect_problem(flow(ROUTED), source, "error", "b", registry) is None
    wrong = connect_problem(flow(ROUTED), "c", "maybe", "b", registry)
    assert wrong is not None and "true, false, error" in str(wrong)


def test_an_unknown_on_error_value_loads_and_is_a_located_problem() -> None:
    workflow = Workflow.model_validate(wf([{"id": "a", "type": "transform",
                                            "config": {"output": 1},
                                            "on_error": "continue_regular"}]))
    assert not workflow.nodes[0].data.error_output
    assert workflow.to_dict()["nodes"][0]["data"]["on_error"] == "continue_regular"  # kept
    assert [(p.code, p.node_id, p.field) for p in validate(workflow, default_registry())] \
        == [("bad_on_error", "a", "on_error")]
