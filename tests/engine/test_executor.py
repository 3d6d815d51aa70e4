"""Execution semantics of DESIGN.md, each rule on a small workflow with real SQLite."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine import Engine
from flowdesk.model import EventType, RunStatus, StepStatus, Workflow, WorkflowInvalid
from tests.helpers.registry import Journal, wf


async def until(condition, timeout: float = 5.0) -> None:
    """Wait, on the running loop, until ``condition()`` holds (the engine works meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def step_status(engine: Engine, run_id: str, step_id: str) -> StepStatus:
    return engine.store.get_run(run_id).steps[step_id].status


def W(*args, **kw) -> Workflow:
    return Workflow.model_validate(wf(*args, **kw))


def statuses(run) -> dict[str, str]:
    return {sid: s.status.value for sid, s in run.steps.items()}


async def test_linear_chain_passes_outputs_downstream(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "a", "config": {"value": {"n": 2}}},
         {"id": "b", "type": "transform", "config": {"output": "{{ steps.a.output.n }}"}},
         {"id": "c", "type": "transform", "config": {"output": "n is {{ steps.b.output }}"}}],
        [("a", "b"), ("b", "c")]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["b"].output == 2  # a whole-string template keeps the type
    assert run.steps["c"].output == "n is 2"


async def test_branch_skips_the_untaken_side_and_join_runs(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "start", "config": {"value": 5}},
         {"id": "check", "type": "condition",
          "config": {"expression": "steps.start.output > 3"}},
         {"id": "yes"}, {"id": "no"}, {"id": "after_no"}, {"id": "join"}],
        [("start", "check"), ("check", "yes", "true"), ("check", "no", "false"),
         ("no", "after_no"), ("yes", "join"), ("after_no", "join")]))
    assert run.status is RunStatus.COMPLETED
    assert statuses(run) == {"start": "completed", "check": "completed", "yes": "completed",
                             "no": "skipped", "after_no": "skipped", "join": "completed"}
    assert run.steps["check"].branch == "true"


async def test_join_is_skipped_when_all_incoming_edges_are_dead(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "c", "type": "condition", "config": {"expression": "false"}},
         {"id": "x"}, {"id": "y"}, {"id": "join"}, {"id": "other"}],
        [("c", "x", "true"), ("c", "y", "true"), ("x", "join"), ("y", "join"),
         ("c", "other", "false")]))
    assert statuses(run)["join"] == "skipped"
    assert statuses(run)["other"] == "completed"
    assert run.status is RunStatus.COMPLETED


async def test_join_waits_for_every_upstream_step(engine: Engine, journal: Journal) -> None:
    run = await engine.run(W(
        [{"id": "fast", "config": {"value": 1}},
         {"id": "slow", "config": {"value": 2, "sleep": 0.2}},
         {"id": "join"},
         {"id": "both", "type": "transform",
          "config": {"output": ["{{ steps.fast.output }}", "{{ steps.slow.output }}"]}}],
        [("fast", "join"), ("slow", "join"), ("join", "both")]))
    ends = {s: t for k, s, t in journal.entries if k == "end"}
    starts = {s: t for k, s, t in journal.entries if k == "start"}
    assert starts["join"] >= ends["slow"]
    assert starts["join"] >= ends["fast"]
    assert run.steps["both"].output == [1, 2]


async def test_concurrency_limit_is_respected(engine: Engine, journal: Journal) -> None:
    nodes = [{"id": f"n{i}", "config": {"value": i, "sleep": 0.05}} for i in range(12)]
    workflow = W(nodes, settings={"max_concurrency": 3})
    run = await engine.run(workflow)
    assert run.status is RunStatus.COMPLETED
    assert journal.max_running == 3


async def test_retry_until_success_records_every_attempt(engine: Engine) -> None:
    run = await engine.run(W([{"id": "f", "type": "flaky", "config": {"failures": 2},
                               "retry": {"max_attempts": 3, "backoff": "fixed",
                                         "base_seconds": 0.01}}]))
    step = run.steps["f"]
    assert run.status is RunStatus.COMPLETED
    assert step.attempts == 3
    assert [a.error for a in step.attempt_log] == ["flaky failure #1", "flaky failure #2", None]
    events = [e for e in engine.store.get_events(run.id) if e.type is EventType.STEP_RETRYING]
    assert [e.payload["attempt"] for e in events] == [1, 2]


async def test_retries_run_out_and_fail_the_run(engine: Engine) -> None:
    run = await engine.run(W([{"id": "f", "type": "flaky", "config": {"failures": 5},
                               "retry": {"max_attempts": 2, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert run.steps["f"].attempts == 2
    assert "flaky failure #2" in run.error


async def test_non_retriable_error_fails_at_once(engine: Engine) -> None:
    run = await engine.run(W([{"id": "f", "type": "flaky",
                               "config": {"failures": 5, "retriable": False},
                               "retry": {"max_attempts": 5, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert run.steps["f"].attempts == 1


async def test_no_retry_setting_means_one_attempt(engine: Engine) -> None:
    run = await engine.run(W([{"id": "f", "type": "flaky", "config": {"failures": 1}}]))
    assert run.steps["f"].attempts == 1
    assert run.status is RunStatus.FAILED


async def test_step_timeout_is_retriable(engine: Engine) -> None:
    run = await engine.run(W([{"id": "s", "config": {"sleep": 5}, "timeout_seconds": 0.05,
                               "retry": {"max_attempts": 2, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert run.steps["s"].attempts == 2
    assert "timed out after 0.05 s" in run.steps["s"].error


async def test_run_timeout_cancels_in_flight_steps(engine: Engine) -> None:
    run = await engine.run(W([{"id": "slow", "config": {"sleep": 10}}, {"id": "after"}],
                             [("slow", "after")], settings={"timeout_seconds": 0.2}))
    assert run.status is RunStatus.FAILED
    assert "run timed out" in run.error
    assert run.steps["slow"].status is StepStatus.CANCELLED
    assert run.steps["after"].status is StepStatus.PENDING


async def test_failure_cancels_running_siblings_and_leaves_pending(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "bad", "type": "flaky", "config": {"failures": 1, "retriable": False}},
         {"id": "slow", "config": {"sleep": 10}}, {"id": "after_bad"}],
        [("bad", "after_bad")]))
    assert run.status is RunStatus.FAILED
    assert statuses(run) == {"bad": "failed", "slow": "cancelled", "after_bad": "pending"}


async def test_continue_on_error_records_failure_and_goes_on(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "bad", "type": "flaky", "config": {"failures": 1, "retriable": False},
          "continue_on_error": True},
         {"id": "next", "type": "transform", "config": {"output": "{{ steps.bad.output }}"}}],
        [("bad", "next")]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["bad"].status is StepStatus.FAILED
    assert run.steps["bad"].output == {"error": "flaky failure #1"}
    assert run.steps["next"].output == {"error": "flaky failure #1"}


async def test_missing_template_path_is_a_step_error_naming_the_path(engine: Engine) -> None:
    run = await engine.run(W(
        [{"id": "a", "config": {"value": {"x": 1}}},
         {"id": "b", "type": "transform", "config": {"output": "{{ steps.a.output.y }}"}}],
        [("a", "b")]))
    assert run.status is RunStatus.FAILED
    assert "steps.a.output.y" in run.steps["b"].error
    assert "key 'y'" in run.steps["b"].error


async def test_internal_error_is_reported_not_retried(engine: Engine) -> None:
    run = await engine.run(W([{"id": "b", "type": "boom",
                               "retry": {"max_attempts": 3, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert run.steps["b"].attempts == 1
    assert "internal error: RuntimeError: a bug in a handler" in run.steps["b"].error
    assert run.steps["b"].attempt_log[-1].error == run.steps["b"].error


def test_a_crash_is_not_a_step_failure() -> None:
    # STYLE.md rule 7: "the engine or a plugin crashed" is not "the step failed"
    from flowdesk.model.errors import FlowdeskError, InternalStepError, StepError

    assert not issubclass(InternalStepError, StepError)
    assert issubclass(InternalStepError, FlowdeskError)


async def test_cancelling_the_task_cancels_the_run_cleanly(engine: Engine) -> None:
    workflow = W([{"id": "slow", "config": {"sleep": 10}}, {"id": "fast"}])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    await until(lambda: step_status(engine, run.id, "slow") is StepStatus.RUNNING
                and step_status(engine, run.id, "fast") is StepStatus.COMPLETED)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = engine.store.get_run(run.id)
    assert after.status is RunStatus.CANCELLED
    assert after.steps["slow"].status is StepStatus.CANCELLED
    assert after.steps["fast"].status is StepStatus.COMPLETED


async def test_cancel_requested_by_another_process_stops_the_run(engine: Engine) -> None:
    workflow = W([{"id": "slow", "config": {"sleep": 10}}])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    await until(lambda: step_status(engine, run.id, "slow") is StepStatus.RUNNING)
    engine.store.request_cancel(run.id, "stopped by a test")
    done = await asyncio.wait_for(task, 5)
    assert done.status is RunStatus.CANCELLED
    assert done.error == "stopped by a test"


async def test_events_are_persisted_in_order_without_gaps(engine: Engine) -> None:
    seen = []
    engine.bus.subscribe(lambda e: seen.append(e))
    run = await engine.run(W([{"id": "a"}, {"id": "b"}, {"id": "c"}],
                             [("a", "b"), ("a", "c")]))
    stored = engine.store.get_events(run.id)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert [e.seq for e in seen] == [e.seq for e in stored]
    assert stored[0].type is EventType.RUN_STARTED
    assert stored[-1].type is EventType.RUN_COMPLETED
    assert stored[-1].payload["duration_ms"] > 0


async def test_events_are_committed_before_they_are_published(engine: Engine) -> None:
    checked = []

    def check(event) -> None:
        stored = engine.store.get_events(event.run_id)
        checked.append(any(e.seq == event.seq for e in stored))

    engine.bus.subscribe(check)
    await engine.run(W([{"id": "a"}, {"id": "b"}], [("a", "b")]))
    assert checked and all(checked)


async def test_big_outputs_are_stored_whole_but_truncated_in_events(engine: Engine) -> None:
    big = "x" * 100_000
    run = await engine.run(W([{"id": "a", "config": {"value": big}}]))
    assert run.steps["a"].output == big
    completed = [e for e in engine.store.get_events(run.id)
                 if e.type is EventType.STEP_COMPLETED][0]
    assert completed.payload["output"]["truncated"] is True
    assert len(completed.payload["output"]["preview"]) < 20_000


async def test_invalid_workflow_is_refused_before_a_run_exists(engine: Engine) -> None:
    with pytest.raises(WorkflowInvalid) as info:
        await engine.run(W([{"id": "a"}, {"id": "b"}], [("a", "b"), ("b", "a")]))
    assert "cycle" in str(info.value)
    assert engine.store.list_runs() == []


async def test_idempotency_key_returns_the_existing_run(engine: Engine, journal) -> None:
    workflow = W([{"id": "a", "config": {"value": 1}}])
    first = await engine.run(workflow, idempotency_key="order-42")
    second = await engine.run(workflow, idempotency_key="order-42")
    assert first.id == second.id
    assert len(journal.started("a")) == 1


async def test_editing_the_workflow_during_a_run_does_not_change_it(engine: Engine) -> None:
    workflow = W([{"id": "a", "config": {"value": 1, "sleep": 0.1}},
                  {"id": "b", "type": "transform", "config": {"output": "original"}}],
                 [("a", "b")])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    await until(lambda: step_status(engine, run.id, "a") is StepStatus.RUNNING)
    workflow.nodes[1].data.config["output"] = "edited"
    done = await task
    assert done.steps["b"].output == "original"


async def test_resume_after_interruption_keeps_completed_outputs(engine: Engine,
                                                                 journal: Journal) -> None:
    workflow = W([{"id": "a", "config": {"value": 1}}, {"id": "b", "config": {"value": 2}},
                  {"id": "c", "config": {"value": 3}}], [("a", "b"), ("b", "c")])
    run, _ = engine.start(workflow)
    # simulate a process that died after 'a' completed and while 'b' was running
    engine.store.write(run.id, {"status": RunStatus.RUNNING, "started_at": 1.0},
                       {"a": {"status": StepStatus.COMPLETED, "output": 1, "attempts": 1},
                        "b": {"status": StepStatus.RUNNING, "attempts": 1}}, [])
    done = await engine.execute(run.id)
    assert done.status is RunStatus.COMPLETED
    assert journal.started("a") == []  # not executed again
    assert journal.started("b") == ["b"]
    assert done.steps["b"].attempts == 2  # the interrupted attempt counts
    resumed = [e for e in engine.store.get_events(run.id) if e.type is EventType.RUN_RESUMED]
    assert resumed[0].payload["interrupted_steps"] == ["b"]
