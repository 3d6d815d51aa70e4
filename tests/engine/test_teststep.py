"""Test one step: the real step handlers (through the runtime the app and CLI build) run a
single step on pinned or last-run upstream outputs, recording no run; "run to here" cuts a
workflow down to a step and its upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flowdesk.engine.teststep import (
    MissingUpstreamData,
    trial_step,
    upstream_data,
    workflow_up_to,
)
from flowdesk.model.errors import NotFound, WorkflowInvalid
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import Workflow
from flowdesk.runtime import Runtime, build_runtime
from flowdesk.store import open_store

WF = Workflow.from_dict({"name": "Shop", "sample_input": {"vat": 0.5}, "nodes": [
    {"id": "load", "type": "transform", "data": {"config": {"output": {"total": 10}}}},
    {"id": "other", "type": "transform", "data": {"config": {"output": "x"}}},
    {"id": "gross", "type": "transform", "data": {"config": {
        "output": "{{= steps.load.output.total * (1 + input.vat) }}"}}},
    {"id": "check", "type": "condition", "data": {"config": {
        "expression": "steps.gross.output > 12"}}},
    {"id": "code", "type": "inline_code", "data": {"config": {
        "code": "result = steps['gross']['output'] * 2"}}},
    {"id": "after", "type": "transform", "data": {"config": {"output": "done"}}}],
    "edges": [{"id": "e1", "source": "load", "target": "gross"},
              {"id": "e2", "source": "other", "target": "gross"},
              {"id": "e3", "source": "gross", "target": "check"},
              {"id": "e4", "source": "gross", "target": "code"},
              {"id": "e5", "source": "check", "target": "after", "sourceHandle": "true"}]})


@pytest.fixture
async def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("FLOWDESK_SECRETS", "file")
    rt = build_runtime(store=open_store(tmp_path / "t.db"), home=tmp_path / "home")
    rt.store.versions.publish(WF)
    yield rt
    await rt.aclose()


async def test_a_step_runs_on_pinned_upstream_and_records_no_run(runtime: Runtime) -> None:
    trial = await trial_step(WF, "gross", registry=runtime.registry,
                             services=runtime.services, history=runtime.store,
                             pins={"load": {"total": 4}}, run_input={"vat": 1})
    assert trial.status is StepStatus.COMPLETED and trial.ok
    assert trial.output == 8
    assert trial.input == {"output": 8}
    assert {k: v.describe() for k, v in trial.upstream.items()} == {"load": "pinned"}
    assert runtime.store.list_runs(limit=None) == []


async def test_upstream_comes_from_the_last_run_when_not_pinned(runtime: Runtime) -> None:
    run = await runtime.engine.run(WF, {"vat": 0.1})
    assert run.status.value == "completed"
    trial = await trial_step(WF, "check", registry=runtime.registry,
                             services=runtime.services, history=runtime.store)
    # gross was 11 in that run: not > 12
    assert trial.output == {"result": False} and trial.branch == "false"
    assert trial.upstream["gross"].run_id == run.id
    assert trial.run_input == {"vat": 0.1}  # the last run's input
    # a pin wins over the run; the code step reads steps['gross'] through the sandbox
    trial = await trial_step(WF, "code", registry=runtime.registry,
                             services=runtime.services, history=runtime.store,
                             pins={"gross": 21})
    assert trial.ok, trial.error
    assert trial.output["result"] == 42
    assert len(runtime.store.list_runs(limit=None)) == 1


async def test_missing_upstream_data_names_the_step(runtime: Runtime) -> None:
    with pytest.raises(MissingUpstreamData, match="'gross' reads the output of 'load', "
                                                  "which has no pinned output"):
        await trial_step(WF, "gross", registry=runtime.registry,
                         services=runtime.services, history=runtime.store)
    # code refers to steps['gross'] by subscript: found too
    with pytest.raises(MissingUpstreamData) as info:
        await trial_step(WF, "code", registry=runtime.registry,
                         services=runtime.services, history=runtime.store)
    assert info.value.missing == ["gross"]
    # an upstream step the config does not read ('other') is not required
    data = upstream_data(WF, "gross", runtime.registry, {"load": 1}, runtime.store)
    assert set(data) == {"load"}


async def test_sample_input_is_the_input_without_a_run_or_an_input(runtime: Runtime) -> None:
    trial = await trial_step(WF, "gross", registry=runtime.registry,
                             services=runtime.services, history=None,
                             pins={"load": {"total": 10}})
    assert trial.output == 15.0 and trial.run_input == {"vat": 0.5}


async def test_a_failing_step_is_a_failed_trial_not_an_exception(runtime: Runtime) -> None:
    trial = await trial_step(WF, "gross", registry=runtime.registry,
                             services=runtime.services, history=runtime.store,
                             pins={"load": {"no_total": 1}})
    assert trial.status is StepStatus.FAILED and not trial.ok
    assert trial.error is not None and "steps.load.output.total" in trial.error
    assert trial.to_dict()["status"] == "failed"


async def test_unknown_step_and_invalid_step(runtime: Runtime) -> None:
    with pytest.raises(NotFound, match="has no step 'nope'"):
        await trial_step(WF, "nope", registry=runtime.registry, services=runtime.services,
                         history=None)
    broken = Workflow.from_dict({**WF.to_dict(), "nodes": [
        *WF.to_dict()["nodes"][:-1],
        {"id": "after", "type": "transform", "data": {"config": {"output": "{{ steps.zz }}"}}}]})
    with pytest.raises(WorkflowInvalid, match="zz"):
        await trial_step(broken, "after", registry=runtime.registry,
                         services=runtime.services, history=None)
    # a problem in another step does not stop testing this one
    trial = await trial_step(broken, "load", registry=runtime.registry,
                             services=runtime.services, history=None)
    assert trial.ok


async def test_secrets_used_by_a_tested_step_are_masked(runtime: Runtime) -> None:
    runtime.secret_store.set("TOKEN", "s3cr3t-value")
    wf = Workflow.from_dict({"name": "S", "nodes": [
        {"id": "a", "type": "transform",
         "data": {"config": {"output": "token={{ secrets.TOKEN }}"}}}]})
    trial = await trial_step(wf, "a", registry=runtime.registry, services=runtime.services,
                             history=None)
    assert trial.ok
    assert "s3cr3t-value" not in repr(trial.to_dict())


def test_run_to_here_keeps_the_step_and_its_upstream() -> None:
    cut = workflow_up_to(WF, "check")
    assert [n.id for n in cut.nodes] == ["load", "other", "gross", "check"]
    assert [e.id for e in cut.edges] == ["e1", "e2", "e3"]
    assert (cut.model_extra or {})["sample_input"] == {"vat": 0.5}
    with pytest.raises(NotFound):
        workflow_up_to(WF, "nope")


async def test_pins_never_change_a_run(runtime: Runtime) -> None:
    runtime.store.set_pins("Shop", {"load": {"total": 1000}})
    workflow, version = runtime.store.get_workflow("Shop")
    run = await runtime.engine.run(workflow, {"vat": 0}, workflow_version=version)
    assert run.steps["load"].output == {"total": 10}
    assert run.steps["gross"].output == 10
