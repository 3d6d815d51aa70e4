"""Webhooks honour ``Idempotency-Key`` / ``X-Idempotency-Key``: a key a workflow saw before
answers 202 with the same run and starts nothing, on one worker or on several sharing a
database; the same key on another workflow's webhook is that workflow's own (both
databases)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flowdesk.model import Workflow
from flowdesk.store import open_store
from tests.helpers.worker import Worker


def _hook(name: str, path: str) -> Workflow:
    return Workflow.model_validate({"name": name, "nodes": [
        {"id": "hook", "type": "webhook", "data": {"config": {"path": path}}}]})


@pytest.fixture
def workers(db_url: str) -> Iterator[list[Worker]]:
    store = open_store(db_url)
    for name, path in (("A", "a"), ("B", "b")):
        store.save_workflow(_hook(name, path), new_version=True)
    store.close()
    started = [Worker(db_url), Worker(db_url)]
    yield started
    for worker in started:
        worker.close()


def test_a_webhook_posted_twice_with_one_key_starts_one_run(workers: list[Worker]) -> None:
    one, two = workers
    first = httpx.post(f"{one.base}/hooks/a", json={"n": 1}, headers={"Idempotency-Key": "K1"})
    assert first.status_code == 202 and first.json()["created"] is True
    run_id = first.json()["run_id"]
    again = httpx.post(f"{one.base}/hooks/a", json={"n": 2},
                       headers={"Idempotency-Key": "K1"})
    assert again.status_code == 202
    assert again.json() == {"run_id": run_id, "workflow": "A", "created": False}
    # another worker on the same database, and the X- spelling, find the same run
    other = httpx.post(f"{two.base}/hooks/a", json={"n": 3},
                       headers={"X-Idempotency-Key": "K1"})
    assert (other.status_code, other.json()["run_id"]) == (202, run_id)
    runs = one.store.list_runs(workflow="A", limit=None)
    assert [r.id for r in runs] == [run_id]
    assert one.store.get_run(run_id).input["body"] == {"n": 1}
    assert one.service.started_runs == [run_id] and two.service.started_runs == []


def test_the_same_key_on_another_workflow_starts_that_workflows_run(
        workers: list[Worker]) -> None:
    one, _ = workers
    a = httpx.post(f"{one.base}/hooks/a", json={}, headers={"Idempotency-Key": "K1"}).json()
    b = httpx.post(f"{one.base}/hooks/b", json={}, headers={"Idempotency-Key": "K1"}).json()
    assert b["created"] is True and b["run_id"] != a["run_id"] and b["workflow"] == "B"
    # without a key every post is a new run
    plain = [httpx.post(f"{one.base}/hooks/a", json={}).json()["run_id"] for _ in range(2)]
    assert len(set(plain)) == 2 and a["run_id"] not in plain


def test_posts_with_one_key_arriving_together_make_one_run(workers: list[Worker]) -> None:
    import threading

    one, _ = workers
    barrier = threading.Barrier(8)
    answers: list[dict[str, object]] = []

    def post() -> None:
        barrier.wait()
        reply = httpx.post(f"{one.base}/hooks/b", json={}, headers={"Idempotency-Key": "K9"},
                           timeout=30)
        assert reply.status_code == 202, reply.text
        answers.append(reply.json())

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 8
    assert len({a["run_id"] for a in answers}) == 1
    assert [a["created"] for a in answers].count(True) == 1
    assert len(one.store.list_runs(workflow="B", limit=None)) == 1
