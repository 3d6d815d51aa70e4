"""Accepted runs go into a queue any worker takes from: a worker with no room left keeps
accepting requests while an idle worker executes them (both databases)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa

from flowdesk.model import RunStatus, Workflow
from flowdesk.store import Store, open_store
from tests.helpers.worker import Worker


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    s.save_workflow(Workflow.model_validate({"name": "Slow", "nodes": [
        {"id": "hook", "type": "webhook", "data": {"config": {"path": "slow"}}},
        {"id": "wait", "type": "delay", "data": {"config": {"seconds": 600}}}],
        "edges": [{"id": "e", "source": "hook", "target": "wait"}]}), new_version=True)
    s.save_workflow(Workflow.model_validate({"name": "Quick", "nodes": [
        {"id": "hook", "type": "webhook", "data": {"config": {"path": "quick"}}},
        {"id": "t", "type": "transform", "data": {"config": {"output": 1}}}],
        "edges": [{"id": "e", "source": "hook", "target": "t"}]}), new_version=True)
    yield s
    s.close()


def _owner(store: Store, run_id: str) -> str | None:
    with store.db.connect() as conn:
        return conn.execute(sa.text("SELECT owner FROM runs WHERE id = :i"),
                            {"i": run_id}).scalar()


def test_an_idle_worker_takes_the_runs_a_busy_one_accepted(store: Store, db_url: str) -> None:
    busy, idle = Worker(db_url, max_runs=1), Worker(db_url, max_runs=1)
    try:
        posted = [httpx.post(f"{busy.base}/hooks/slow", json={}).json()["run_id"]
                  for _ in range(2)]
        wait_until(lambda: all(store.run_status(r) is RunStatus.RUNNING for r in posted))
        # each worker has room for one run: one runs on each, whichever took which
        assert {_owner(store, r) for r in posted} == {busy.engine.owner, idle.engine.owner}
        assert len(busy.service.queue.taken) == 1 and len(idle.service.queue.taken) == 1
        # both full: a third accepted run waits in the queue, owned by nobody
        third = httpx.post(f"{idle.base}/hooks/quick", json={})
        assert third.status_code == 202
        third_id = third.json()["run_id"]
        assert store.run_status(third_id) is RunStatus.PENDING
        assert _owner(store, third_id) is None
        # a worker with room again (here: a new one) takes it and completes it
        spare = Worker(db_url, max_runs=1)
        try:
            wait_until(lambda: store.run_status(third_id) is RunStatus.COMPLETED)
            assert spare.service.queue.taken == [third_id]
        finally:
            spare.close()
    finally:
        busy.close()
        idle.close()


def test_one_worker_runs_what_it_accepts_at_once(store: Store, db_url: str) -> None:
    worker = Worker(db_url)
    try:
        ids = [httpx.post(f"{worker.base}/hooks/quick", json={"i": i}).json()["run_id"]
               for i in range(5)]
        wait_until(lambda: all(store.run_status(r) is RunStatus.COMPLETED for r in ids))
        assert sorted(worker.service.queue.taken) == sorted(ids)
    finally:
        worker.close()


def test_workers_claiming_together_take_different_runs(store: Store, db_url: str) -> None:
    import threading

    workflow, version = store.get_workflow("Quick")
    queued = {store.create_run(workflow, {}, workflow_version=version)[0].id
              for _ in range(12)}
    others = [open_store(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(others))
    taken: dict[int, list[str]] = {}

    def claim(i: int, s: Store) -> None:
        barrier.wait()
        got: list[str] = []
        while batch := s.claim_queued(f"worker-{i}", 30, 2):
            got += batch
        taken[i] = got

    threads = [threading.Thread(target=claim, args=(i, s)) for i, s in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in others:
        s.close()
    everything = [r for got in taken.values() for r in got]
    assert sorted(everything) == sorted(queued)  # each run taken once, none left
    assert store.claim_queued("late", 30, 5) == []
