"""A schedule's firing is claimed with one conditional UPDATE: of several workers on one
database, exactly one starts each due run (both databases)."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from flowdesk.model import Workflow
from flowdesk.store import Store, open_store
from tests.helpers.worker import Worker

KEY = "schedule.last:Every second:tick"


def _race(callers: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(callers))
    results: list[Any] = [None] * len(callers)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = callers[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(callers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def stores(db_url: str) -> Iterator[list[Store]]:
    opened = [open_store(db_url) for _ in range(4)]
    yield opened
    for s in opened:
        s.close()


def test_one_of_racing_processes_claims_a_slot(stores: list[Store]) -> None:
    firsts = _race([functools.partial(s.add_setting, KEY, 100.0) for s in stores])
    assert firsts.count(True) == 1
    assert stores[0].get_setting(KEY) == 100.0
    for slot in (101.0, 102.5, 103.0):
        last = stores[1].get_setting(KEY)
        wins = _race([functools.partial(s.replace_setting, KEY, last, slot + i / 100)
                      for i, s in enumerate(stores)])
        assert wins.count(True) == 1
        assert stores[2].get_setting(KEY) == slot + wins.index(True) / 100
    assert stores[0].replace_setting(KEY, 42.0, 200.0) is False


def test_two_workers_never_fire_the_same_slot_twice(db_url: str) -> None:
    store = open_store(db_url)
    store.save_workflow(Workflow.model_validate({"name": "Every second", "nodes": [
        {"id": "tick", "type": "schedule", "data": {"config": {"cron": "* * * * * *"}}}]}),
        new_version=True)
    workers = [Worker(db_url), Worker(db_url)]
    try:
        deadline = time.monotonic() + 30
        while store.get_setting(KEY) is None:  # first sight by one of them: nothing fired
            assert time.monotonic() < deadline
            time.sleep(0.02)
        first = float(store.get_setting(KEY))
        for round_ in range(1, 6):
            # ahead of the clock: the workers' own schedule loops fire at the real time, and
            # once that caught up with the rounds' times (a slow machine: the rounds took over
            # 5 s) a loop fired a sixth run that no round asked for
            now = first + 100 + round_ + 0.5

            async def fire(w: Worker, at: float = now) -> list[str]:
                return w.service.fire_due_schedules(at)

            futures: list[Future[list[str]]] = _race([
                functools.partial(asyncio.run_coroutine_threadsafe, fire(w), w.loop)
                for w in workers])
            started = [run_id for f in futures for run_id in f.result(60)]
            assert len(started) == 1, f"round {round_}: {started}"
        runs = store.list_runs(workflow="Every second", limit=None)
        assert len(runs) == 5
        slots = [store.get_run(r.id).input["scheduled_at"] for r in runs]
        assert len(set(slots)) == 5
    finally:
        for w in workers:
            w.close()
        store.close()
