"""What only a server database makes possible, tried for real on both databases: two workers
claiming the same run at the same moment, and two desks deciding one approval at once.
Exactly one wins each time; the other gets a clear answer."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from flowdesk.model import Workflow
from flowdesk.model.errors import DecisionError
from flowdesk.model.status import StepStatus
from flowdesk.store import Store, open_store

ROUNDS = 8


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the loser's answer is part of what is tested
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_workers_claiming_one_run_one_wins(store: Store, db_url: str) -> None:
    other = open_store(db_url)  # a second worker: its own connections
    try:
        workflow = Workflow.model_validate({"name": "w", "nodes": [
            {"id": "a", "type": "transform", "data": {"config": {"output": 1}}}]})
        me = f"{socket.gethostname()}:{os.getpid()}"
        for i in range(ROUNDS):
            run, _ = store.create_run(workflow, {})
            rid = run.id
            won = race([lambda r=rid, n=i: store.claim_run(r, f"{me}:w1-{n}", 30),
                        lambda r=rid, n=i: other.claim_run(r, f"{me}:w2-{n}", 30)])
            assert sorted(won) == [False, True], won
    finally:
        other.close()


def test_two_desks_deciding_one_approval_one_wins(store: Store, db_url: str) -> None:
    other = open_store(db_url)
    try:
        workflow = Workflow.model_validate({"name": "w", "nodes": [
            {"id": "ok", "type": "wait_for_approval", "data": {"config": {"title": "?"}}}]})
        for _ in range(ROUNDS):
            run, _ = store.create_run(workflow, {})
            # the step waits for an approval, as the engine leaves it
            store.write(run.id, {}, {"ok": {"status": StepStatus.WAITING,
                                           "state": {"wait": {"kind": "approval"}}}}, [])
            answers = race([
                lambda r=run.id: store.record_decision(r, "ok", {"approved": True,
                                                                 "decided_by": "ann"}),
                lambda r=run.id: other.record_decision(r, "ok", {"approved": False,
                                                                 "decided_by": "bob"})])
            losers = [a for a in answers if isinstance(a, Exception)]
            assert len(losers) == 1 and isinstance(losers[0], DecisionError), answers
            winner = "ann" if answers[0] is None else "bob"
            assert f"already {'approved' if winner == 'ann' else 'rejected'} by {winner}" in \
                str(losers[0])
            state = store.get_run(run.id).steps["ok"].state
            assert state["decision"]["decided_by"] == winner
    finally:
        other.close()
