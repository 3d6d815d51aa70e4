"""Retry and run-from-step say which definition they run: the workflow as saved now by
default, the run's own on request; attempts of every run attempt are told apart; a run's
duration is its active time, with waiting counted apart."""

from __future__ import annotations

import asyncio
import time

import pytest

from flowdesk.engine import Engine
from flowdesk.model import EventType, RunStatus, StepStatus, Workflow
from flowdesk.model.errors import FlowdeskError
from tests.helpers.registry import wf

PAUSE = 0.3  # how long the run stays paused or idle before it goes on


async def until_time_passed(since: float) -> None:
    """The pause of a person deciding: wait until PAUSE seconds have passed since then."""
    while time.time() - since < PAUSE:
        await asyncio.sleep(0.02)


ALWAYS_FAILS = {"failures": 1000, "retriable": False, "message": "wrong url"}


def stored(engine: Engine, nodes, edges=(), name: str = "Probe") -> tuple[Workflow, int]:
    workflow = Workflow.model_validate(wf(nodes, edges, name=name))
    version = engine.store.save_workflow(workflow, new_version=True)
    return workflow, version


def retried_events(engine: Engine, run_id: str) -> list:
    return [e for e in engine.store.get_events(run_id) if e.type is EventType.RUN_RETRIED]


async def test_retry_runs_the_fixed_workflow_by_default(engine: Engine) -> None:
    workflow, version = stored(engine, [{"id": "a"}, {"id": "f", "type": "flaky",
                                                     "config": ALWAYS_FAILS}], [("a", "f")])
    run = await engine.run(workflow, workflow_version=version)
    assert run.status is RunStatus.FAILED
    # the user fixes the step and adds one after it; renaming does not matter either
    fixed, _ = stored(engine, [{"id": "a"}, {"id": "f", "type": "flaky",
                                            "config": {"failures": 0}}, {"id": "new"}],
                      [("a", "f"), ("f", "new")])
    engine.store.save_workflow(fixed, new_version=True)
    engine.store.rename_workflow("Probe", "Probe flow")
    done = await engine.retry(run.id)
    assert done.status is RunStatus.COMPLETED
    assert done.steps["new"].status is StepStatus.COMPLETED
    assert done.definition["nodes"][1]["data"]["config"] == {"failures": 0}
    assert done.workflow_version == engine.store.get_workflow("Probe flow")[1]
    event = retried_events(engine, run.id)[0]
    assert event.payload["definition"] == "current"
    assert event.payload["workflow_version"] == done.workflow_version
    assert "current workflow" in event.payload["reason"]


async def test_retry_with_the_original_runs_what_the_run_ran(engine: Engine) -> None:
    workflow, version = stored(engine, [{"id": "f", "type": "flaky",
                                        "config": ALWAYS_FAILS}])
    run = await engine.run(workflow, workflow_version=version)
    stored(engine, [{"id": "f", "type": "flaky", "config": {"failures": 0}}])
    again = await engine.retry(run.id, definition="original")
    assert again.status is RunStatus.FAILED and "wrong url" in again.steps["f"].error
    assert again.workflow_version == version
    assert retried_events(engine, run.id)[0].payload["definition"] == "original"
    # run-from-step takes the current one by default too
    done = await engine.retry(run.id, from_step="f")
    assert done.status is RunStatus.COMPLETED
    assert retried_events(engine, run.id)[1].payload["definition"] == "current"


async def test_current_definition_must_be_valid_and_exist(engine: Engine) -> None:
    workflow, version = stored(engine, [{"id": "f", "type": "flaky",
                                        "config": ALWAYS_FAILS}])
    run = await engine.run(workflow, workflow_version=version)
    stored(engine, [{"id": "f", "type": "no_such_type"}])
    with pytest.raises(FlowdeskError, match="no_such_type"):
        await engine.retry(run.id)
    engine.store.delete_workflow("Probe")
    with pytest.raises(FlowdeskError, match="deleted; retry it with its original"):
        await engine.retry(run.id)
    assert (await engine.retry(run.id, definition="original")).status is RunStatus.FAILED


async def test_attempts_of_each_run_attempt_are_told_apart(engine: Engine) -> None:
    workflow, version = stored(engine, [{"id": "f", "type": "flaky",
                                        "config": ALWAYS_FAILS}])
    run = await engine.run(workflow, workflow_version=version)
    done = await engine.retry(run.id)
    log = done.steps["f"].attempt_log
    assert [(a.run_attempt, a.attempt) for a in log] == [(1, 1), (2, 1)]
    assert done.steps["f"].attempts == 1  # tries in the latest attempt of the run


async def test_duration_is_active_time_and_waiting_is_apart(engine: Engine) -> None:
    approval = Workflow.model_validate(wf(
        [{"id": "prep"}, {"id": "gate", "type": "wait_for_approval",
                          "config": {"title": "ok?"}}, {"id": "paid"}],
        [("prep", "gate"), ("gate", "paid", "approved")]))
    run = await engine.run(approval)
    assert run.status is RunStatus.PAUSED
    await until_time_passed(engine.store.get_events(run.id)[-1].ts)
    engine.decide(run.id, "gate", approved=True)
    done = await engine.execute(run.id)
    assert done.status is RunStatus.COMPLETED
    events = {e.type: e for e in engine.store.get_events(run.id)}
    wall = done.finished_at - done.started_at
    assert done.active_seconds is not None and done.waiting_seconds is not None
    assert done.active_seconds + done.waiting_seconds == pytest.approx(wall)
    assert done.waiting_seconds >= PAUSE * 0.9  # the pause is waiting, not run time
    assert events[EventType.RUN_COMPLETED].payload["duration_ms"] == pytest.approx(
        done.active_seconds * 1000, abs=0.01)


async def test_idle_time_before_a_retry_is_waiting_not_duration(engine: Engine) -> None:
    workflow, version = stored(engine, [{"id": "f", "type": "flaky",
                                        "config": ALWAYS_FAILS}])
    run = await engine.run(workflow, workflow_version=version)
    await until_time_passed(run.finished_at)
    done = await engine.retry(run.id)
    assert done.waiting_seconds >= PAUSE * 0.9
    assert done.active_seconds < done.finished_at - done.started_at - PAUSE * 0.9
