"""Runs accepted in groups (``Store.intake``), on SQLite and PostgreSQL: one transaction for
the whole group, claimed by the accepting process, all or nothing."""

from __future__ import annotations

import time
import uuid

import pytest

from flowdesk.model import NotFound, RunStatus, StoreError, Workflow
from flowdesk.store import Store
from flowdesk.store.intake import NewRun

WORKFLOW = Workflow.model_validate({"name": "in", "nodes": [
    {"id": "hook", "type": "webhook", "data": {"config": {"path": "in"}}},
    {"id": "mark", "type": "transform", "data": {"config": {"output": 1}}}],
    "edges": [{"id": "e", "source": "hook", "target": "mark"}]})


def new_run(store: Store, n: int, run_id: str | None = None) -> NewRun:
    return NewRun(run_id=run_id or uuid.uuid4().hex, workflow_name="in",
                  workflow_id=store.workflow_id("in"), workflow_version=1,
                  definition=WORKFLOW.to_json(indent=None), step_ids=("hook", "mark"),
                  input={"body": {"n": n}}, created_at=time.time())


def test_a_group_is_recorded_whole_and_claimed_by_the_accepting_process(store: Store) -> None:
    store.save_workflow(WORKFLOW, new_version=True)
    batch = [new_run(store, n) for n in range(5)]
    store.intake.accept(batch, "host:1:me", 30)
    store.intake.sync()
    for item, n in zip(batch, range(5), strict=True):
        run = store.get_run(item.run_id)
        assert run.status is RunStatus.PENDING
        assert run.input == {"body": {"n": n}}
        assert run.workflow_version == 1 and run.workflow_id == store.workflow_id("in")
        assert set(run.steps) == {"hook", "mark"}
        assert Workflow.model_validate(run.definition).to_json() == WORKFLOW.to_json()
    # claimed: another process cannot take them while the claim is live
    assert not store.claim_run(batch[0].run_id, "host:2:other", 30)
    assert batch[0].run_id not in store.resumable_runs()


def test_a_group_that_fails_keeps_none_of_its_runs(store: Store) -> None:
    store.save_workflow(WORKFLOW, new_version=True)
    first = new_run(store, 0)
    store.intake.accept([first], "host:1:me", 30)
    before = len(store.list_runs(limit=None))
    # the last member collides with a run already recorded: the whole group is refused
    batch = [new_run(store, 1), new_run(store, 2), new_run(store, 3, run_id=first.run_id)]
    with pytest.raises(StoreError, match="none was kept"):
        store.intake.accept(batch, "host:1:me", 30)
    assert len(store.list_runs(limit=None)) == before
    store.intake.discard([first.run_id])
    assert store.list_runs(limit=None) == []


def test_the_routes_fingerprint_changes_with_every_publish_rename_and_delete(
        store: Store) -> None:
    empty = store.intake.routes_fingerprint()
    store.save_workflow(WORKFLOW, new_version=True)
    one = store.intake.routes_fingerprint()
    assert one != empty
    assert store.intake.routes_fingerprint() == one  # nothing changed: the same
    store.save_workflow(WORKFLOW.model_copy(update={"description": "v2"}), new_version=True)
    two = store.intake.routes_fingerprint()
    assert two != one
    store.rename_workflow("in", "renamed")
    three = store.intake.routes_fingerprint()
    assert three != two
    store.delete_workflow("renamed")
    assert store.intake.routes_fingerprint() == empty


def test_a_group_with_a_key_its_workflow_used_is_refused_whole_and_queued_rows_are_free(
        store: Store) -> None:
    import dataclasses

    from flowdesk.store.runs import idempotency_scope

    store.save_workflow(WORKFLOW, new_version=True)
    scope = idempotency_scope(store.workflow_id("in"), "in")
    keyed = dataclasses.replace(new_run(store, 1), idempotency_key="K", idempotency_scope=scope)
    queued = dataclasses.replace(new_run(store, 2), queued=True)
    store.intake.accept([keyed, queued], "host:1:me", 30)
    assert store.get_run(keyed.run_id).idempotency_key == "K"
    assert store.claim_queued("host:2:other", 30, 5) == [queued.run_id]
    # another worker recording the same key at the same time: its whole group is refused
    again = dataclasses.replace(new_run(store, 3), idempotency_key="K", idempotency_scope=scope)
    bystander = new_run(store, 4)
    with pytest.raises(StoreError, match="none was kept"):
        store.intake.accept([bystander, again], "host:2:other", 30)
    for item in (again, bystander):
        with pytest.raises(NotFound):
            store.get_run(item.run_id)
