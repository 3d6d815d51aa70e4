"""The app on a database other processes use: a run started by `flowdesk run` in another
process appears in the open workflow's History with live badges, and the Approvals inbox
follows approvals waiting and decided elsewhere — pushed by LISTEN/NOTIFY on PostgreSQL,
polled on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from flowdesk.model import StepStatus, Workflow
from flowdesk.store import open_store

SHARED = {"name": "Shared", "nodes": [
    {"id": "a", "type": "transform", "data": {"config": {"output": {"n": 1}}}},
    {"id": "ok", "type": "wait_for_approval", "data": {"config": {"title": "Go on?"}}},
    {"id": "b", "type": "transform", "data": {"config": {"output": "done"}}}],
    "edges": [{"id": "e1", "source": "a", "target": "ok"},
              {"id": "e2", "source": "ok", "target": "b", "sourceHandle": "approved"}]}


def flowdesk(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FLOWDESK_DB"}
    return subprocess.run([sys.executable, "-m", "flowdesk", "--db", url, *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def desk(qtbot, qloop, db_url: str) -> Iterator[object]:
    from flowdesk.app import build_app

    store = open_store(db_url)
    store.save_workflow(Workflow.model_validate(SHARED), new_version=True)
    store.close()
    window = build_app(db_url, housekeeping=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.open_workflow("Shared")
    yield window
    done = qloop.create_task(window.controller.aclose())
    qtbot.waitUntil(done.done, timeout=10000)
    window.library.store.close()


def badge(window: object, node: str) -> StepStatus | None:
    view = window.scene.node_items[node].view  # type: ignore[attr-defined]
    return None if view is None else view.status


def test_runs_and_approvals_of_other_processes_show_live(desk, qtbot, db_url: str) -> None:
    window = desk
    assert window.history.rowCount() == 0 and window.approvals.list.count() == 0
    started = flowdesk(db_url, "run", "Shared", "--json")
    assert started.returncode == 3, started.stderr  # paused at the approval
    run_id = window.library.runs("Shared")[0].id
    # History lists it and, with no run shown, the canvas shows it: waiting at the approval
    qtbot.waitUntil(lambda: window.history.has_run(run_id), timeout=15000)
    qtbot.waitUntil(lambda: badge(window, "ok") is StepStatus.WAITING, timeout=15000)
    assert window.runs.current_run == run_id
    assert badge(window, "a") is StepStatus.COMPLETED
    qtbot.waitUntil(lambda: window.approvals.list.count() == 1, timeout=15000)
    assert window.approvals.current()["run_id"] == run_id
    # approved at another desk: the badges go on without reopening, the inbox empties
    decided = flowdesk(db_url, "approve", run_id, "ok", "--comment", "fine")
    assert decided.returncode == 0, decided.stderr
    qtbot.waitUntil(lambda: badge(window, "b") is StepStatus.COMPLETED, timeout=15000)
    assert badge(window, "ok") is StepStatus.COMPLETED
    qtbot.waitUntil(lambda: window.approvals.list.count() == 0, timeout=15000)
    qtbot.waitUntil(lambda: window.history.item(0, 1).text() == "completed", timeout=15000)
    assert window.history.rowCount() == 1
    # the event log lists each event once, in order
    seqs = [int(window.event_log.topLevelItem(i).text(0))
            for i in range(window.event_log.topLevelItemCount())]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 6


def test_a_run_elsewhere_does_not_replace_the_run_shown(desk, qtbot, db_url: str) -> None:
    window = desk
    mine = window.start_run({})
    qtbot.waitUntil(lambda: badge(window, "ok") is StepStatus.WAITING, timeout=15000)
    assert flowdesk(db_url, "run", "Shared").returncode == 3
    other = next(r.id for r in window.library.runs("Shared") if r.id != mine)
    qtbot.waitUntil(lambda: window.history.has_run(other), timeout=15000)
    qtbot.waitUntil(lambda: window.approvals.list.count() == 2, timeout=15000)
    assert window.runs.current_run == mine
    # opened from History, it follows what happens to it elsewhere
    window.runs.show_run(other)
    assert flowdesk(db_url, "approve", other, "ok").returncode == 0
    qtbot.waitUntil(lambda: badge(window, "b") is StepStatus.COMPLETED, timeout=15000)
    qtbot.waitUntil(lambda: window.approvals.list.count() == 1, timeout=15000)
