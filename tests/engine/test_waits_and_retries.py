"""Approvals, events, timeouts, retry and re-run from a step, pruning — in process."""

from __future__ import annotations

import asyncio
import time

import pytest

from flowdesk.engine import Engine
from flowdesk.model import DecisionError, EventType, RunStatus, StepStatus, Workflow
from tests.helpers.registry import Journal, wf


def W(*a, **k) -> Workflow:
    return Workflow.model_validate(wf(*a, **k))


APPROVAL = W([{"id": "prep", "config": {"value": {"amount": 30}}},
              {"id": "gate", "type": "wait_for_approval",
               "config": {"title": "Pay {{ steps.prep.output.amount }}?",
                          "data": "{{ steps.prep.output }}"}},
              {"id": "paid"}, {"id": "refused"}],
             [("prep", "gate"), ("gate", "paid", "approved"), ("gate", "refused", "rejected")])


async def test_approval_pauses_then_approve_takes_the_approved_port(engine: Engine) -> None:
    run = await engine.run(APPROVAL)
    assert run.status is RunStatus.PAUSED
    assert run.steps["gate"].status is StepStatus.WAITING
    waiting = engine.store.waiting_steps(kind="approval")
    assert [(w["step_id"], w["title"], w["data"]) for w in waiting] == \
        [("gate", "Pay 30?", {"amount": 30})]
    engine.decide(run.id, "gate", approved=True, comment="ok", data={"ref": 7},
                  decided_by="ada")
    done = await engine.execute(run.id)
    assert done.status is RunStatus.COMPLETED
    out = done.steps["gate"].output
    assert (out["approved"], out["comment"], out["data"], out["decided_by"]) == \
        (True, "ok", {"ref": 7}, "ada")
    assert done.steps["gate"].attempts == 1
    assert done.steps["paid"].status is StepStatus.COMPLETED
    assert done.steps["refused"].status is StepStatus.SKIPPED
    types = [e.type for e in engine.store.get_events(run.id)]
    assert EventType.RUN_PAUSED in types and EventType.RUN_RESUMED in types


async def test_reject_takes_the_rejected_port(engine: Engine) -> None:
    run = await engine.run(APPROVAL)
    engine.decide(run.id, "gate", approved=False, comment="too much")
    done = await engine.execute(run.id)
    assert done.steps["refused"].status is StepStatus.COMPLETED
    assert done.steps["paid"].status is StepStatus.SKIPPED


async def test_wrong_decisions_are_clear_errors_and_change_nothing(engine: Engine) -> None:
    run = await engine.run(APPROVAL)
    with pytest.raises(DecisionError, match=r"step 'prep' .* is not waiting for an approval"):
        engine.decide(run.id, "prep", approved=True)
    engine.decide(run.id, "gate", approved=False)
    with pytest.raises(DecisionError, match="was already rejected"):
        engine.decide(run.id, "gate", approved=True)
    done = await engine.execute(run.id)
    assert done.steps["gate"].output["approved"] is False


async def test_other_branches_keep_running_while_one_waits(engine: Engine,
                                                           journal: Journal) -> None:
    run = await engine.run(W([{"id": "gate", "type": "wait_for_approval"},
                              {"id": "busy", "config": {"sleep": 0.2}},
                              {"id": "after_busy"}], [("busy", "after_busy")]))
    assert run.status is RunStatus.PAUSED
    assert run.steps["after_busy"].status is StepStatus.COMPLETED


async def test_decision_while_the_run_is_executing_is_picked_up(engine: Engine) -> None:
    workflow = W([{"id": "gate", "type": "wait_for_approval"},
                  {"id": "busy", "config": {"sleep": 1.0}}, {"id": "go"}],
                 [("gate", "go", "approved")])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    while engine.store.get_run(run.id).steps["gate"].status is not StepStatus.WAITING:
        await asyncio.sleep(0.01)
    engine.decide(run.id, "gate", approved=True)
    done = await task
    assert done.status is RunStatus.COMPLETED
    assert done.steps["go"].finished_at < done.steps["busy"].finished_at


@pytest.mark.parametrize(("on_timeout", "status", "port"), [
    ("reject", RunStatus.COMPLETED, "refused"),
    ("approve", RunStatus.COMPLETED, "paid"),
    ("fail", RunStatus.FAILED, None),
])
async def test_approval_timeout(engine: Engine, on_timeout: str, status: RunStatus,
                                port: str | None) -> None:
    definition = APPROVAL.model_copy(deep=True)
    definition.nodes[1].data.config.update(timeout_seconds=0.2, on_timeout=on_timeout)
    run = await engine.run(definition)
    assert run.status is RunStatus.PAUSED
    await asyncio.sleep(0.3)
    assert run.id in engine.store.resumable_runs()
    done = await engine.execute(run.id)
    assert done.status is status
    if port is not None:
        assert done.steps[port].status is StepStatus.COMPLETED
        assert done.steps["gate"].output["timed_out"] is True
    else:
        assert "nobody decided within 0.2 s" in done.error


async def test_approval_timeout_while_the_run_is_executing(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "gate", "type": "wait_for_approval",
         "config": {"timeout_seconds": 0.1, "on_timeout": "approve"}},
        {"id": "busy", "config": {"sleep": 0.5}}]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["gate"].output["approved"] is True


EVENT = W([{"id": "wait", "type": "wait_for_event",
            "config": {"event_name": "payment.received",
                       "correlation_key": "{{ input.order }}"}},
           {"id": "use", "type": "transform",
            "config": {"output": "{{ steps.wait.output.data.amount }}"}}],
          [("wait", "use")])


async def test_event_with_the_right_key_resumes_the_run(engine: Engine) -> None:
    run = await engine.run(EVENT, {"order": "A-1"})
    assert run.status is RunStatus.PAUSED
    assert engine.send_event("payment.received", "B-2", {"amount": 1}) == []  # wrong key
    assert engine.store.get_run(run.id).steps["wait"].status is StepStatus.WAITING
    assert engine.send_event("payment.received", "A-1", {"amount": 42}) == [run.id]
    done = await engine.execute(run.id)
    assert done.status is RunStatus.COMPLETED
    assert done.steps["use"].output == 42
    assert done.steps["wait"].output["key"] == "A-1"


async def test_an_event_that_beats_its_waiter_is_kept(engine: Engine) -> None:
    assert engine.send_event("payment.received", "A-9", {"amount": 5}) == []
    run = await engine.run(EVENT, {"order": "A-9"})
    assert run.status is RunStatus.COMPLETED
    assert run.steps["use"].output == 5
    again = await engine.run(EVENT, {"order": "A-9"})  # the kept event was taken once
    assert again.status is RunStatus.PAUSED


async def test_expired_kept_events_are_not_delivered(engine: Engine) -> None:
    engine.store.deliver_event("payment.received", "X", {"amount": 1}, keep_seconds=0.01)
    await asyncio.sleep(0.05)
    run = await engine.run(EVENT, {"order": "X"})
    assert run.status is RunStatus.PAUSED


async def test_event_timeout_fails_or_continues(engine: Engine) -> None:
    failing = EVENT.model_copy(deep=True)
    failing.nodes[0].data.config["timeout_seconds"] = 0.1
    run = await engine.run(failing, {"order": "Z"})
    await asyncio.sleep(0.2)
    done = await engine.execute(run.id)
    assert done.status is RunStatus.FAILED
    assert "no event 'payment.received' with key 'Z' within 0.1 s" in done.error


async def test_retry_runs_failed_and_never_run_steps_reusing_outputs(engine: Engine,
                                                                     journal: Journal) -> None:
    workflow = W([{"id": "a", "config": {"value": 1}},
                  {"id": "f", "type": "flaky", "config": {"failures": 1, "retriable": False}},
                  {"id": "after"}], [("a", "f"), ("f", "after")])
    run = await engine.run(workflow)
    assert run.status is RunStatus.FAILED
    assert run.steps["after"].status is StepStatus.PENDING
    done = await engine.retry(run.id)
    assert done.id == run.id and done.attempt == 2
    assert done.status is RunStatus.COMPLETED
    assert journal.started("a") == ["a"]  # reused, not executed again
    assert done.steps["after"].status is StepStatus.COMPLETED
    retried = [e for e in engine.store.get_events(run.id) if e.type is EventType.RUN_RETRIED]
    assert retried[0].payload["steps"] == ["f", "after"]
    seqs = [e.seq for e in engine.store.get_events(run.id)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_rerun_from_a_step_runs_it_and_everything_downstream(engine: Engine,
                                                                   journal: Journal) -> None:
    run = await engine.run(W([{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "side"}],
                             [("a", "b"), ("b", "c"), ("a", "side")]))
    done = await engine.retry(run.id, from_step="b")
    assert done.status is RunStatus.COMPLETED
    assert [journal.order().count(s) for s in "abc"] == [1, 2, 2]
    assert journal.order().count("side") == 1


async def test_retry_refuses_runs_that_are_not_finished(engine: Engine) -> None:
    run = await engine.run(APPROVAL)
    with pytest.raises(Exception, match="only a completed, failed or cancelled run"):
        await engine.retry(run.id)


async def test_cancel_a_paused_run(engine: Engine) -> None:
    run = await engine.run(APPROVAL)
    done = await engine.cancel(run.id, "not needed")
    assert done.status is RunStatus.CANCELLED
    assert done.steps["gate"].status is StepStatus.CANCELLED
    with pytest.raises(DecisionError):
        engine.decide(run.id, "gate", approved=True)


async def test_prune_removes_old_finished_runs_and_their_events(engine: Engine) -> None:
    old = await engine.run(W([{"id": "a"}]))
    new = await engine.run(W([{"id": "a"}]))
    paused = await engine.run(APPROVAL)
    engine.store.write(old.id, {"finished_at": time.time() - 40 * 86400}, {}, [])
    removed = engine.store.prune_runs(time.time() - 30 * 86400, batch=1)
    assert removed == 1
    remaining = {r.id for r in engine.store.list_runs()}
    assert remaining == {new.id, paused.id}
    assert engine.store.get_events(old.id) == []
