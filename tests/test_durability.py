"""Crash resume with real processes: `flowdesk run` is killed with SIGKILL at several points,
`flowdesk resume` carries the run on, and a loopback server counts what was executed."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flowdesk.model import RunStatus, StepStatus
from flowdesk.store import Store, open_store
from tests.helpers.httpserver import Answer, LoopbackServer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def http(node_id: str, url: str, **data) -> dict:
    return {"id": node_id, "type": "http_request",
            "data": {"config": {"url": url, "method": "POST",
                                "idempotency_header": "Idempotency-Key"}, **data}}


def chain(*ids: str) -> list[dict]:
    return [{"id": f"e{i}", "source": a, "target": b} for i, (a, b) in
            enumerate(itertools.pairwise(ids))]


def env(db: Path) -> dict[str, str]:
    return {**os.environ, "FLOWDESK_DB": str(db)}


def start(tmp_path: Path, workflow: dict, db: Path) -> subprocess.Popen[str]:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    return subprocess.Popen([sys.executable, "-m", "flowdesk", "run", str(path)],
                            env=env(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            text=True)


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def resume(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowdesk", "resume", *args, "--json"],
                          env=env(db), capture_output=True, text=True, timeout=60)


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def only_run(store: Store):
    runs = store.list_runs()
    assert len(runs) == 1
    return store.get_run(runs[0].id)


def assert_events_whole(store: Store, run_id: str) -> None:
    seqs = [e.seq for e in store.get_events(run_id)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.fixture
def server():
    s = LoopbackServer().start()
    yield s
    s.stop()


def test_kill_during_a_step(tmp_path: Path, server: LoopbackServer) -> None:
    gate = threading.Event()
    server.route("/a", Answer(200, {"a": 1}))
    server.route("/b", Answer(200, {"b": 2}, gate=gate))
    server.route("/c", Answer(200, {"c": 3}))
    db = tmp_path / "f.db"
    proc = start(tmp_path, {"name": "w", "nodes": [http("a", f"{server.url}/a"),
                                                   http("b", f"{server.url}/b"),
                                                   http("c", f"{server.url}/c")],
                            "edges": chain("a", "b", "c")}, db)
    server.wait_for_hit("/b")
    kill(proc)
    gate.set()
    store = open_store(db)
    assert only_run(store).status is RunStatus.RUNNING
    result = resume(db)
    assert result.returncode == 0, result.stderr
    run = only_run(store)
    assert run.status is RunStatus.COMPLETED
    assert server.count("/a") == 1  # finished before the crash: not executed again
    assert server.count("/b") == 2  # in flight: executed again (at least once)
    assert server.count("/c") == 1
    keys = server.headers_of("/b", "Idempotency-Key")
    assert keys[0] == keys[1] == f"{run.id}:b"  # the server can deduplicate
    assert run.steps["b"].attempts == 2
    assert_events_whole(store, run.id)


def test_kill_between_steps(tmp_path: Path, server: LoopbackServer) -> None:
    for path in ("/a", "/b", "/c"):
        server.route(path, Answer(200, {}, delay=0.05))
    db = tmp_path / "f.db"
    proc = start(tmp_path, {"name": "w", "nodes": [http(x, f"{server.url}/{x}") for x in "abc"],
                            "edges": chain("a", "b", "c")}, db)
    store = open_store(db)
    wait_until(lambda: store.list_runs() and only_run(store).steps["a"].status
               is StepStatus.COMPLETED)
    kill(proc)
    done_before = {s for s, st in only_run(store).steps.items()
                   if st.status is StepStatus.COMPLETED}
    result = resume(db)
    assert result.returncode == 0, result.stderr
    run = only_run(store)
    assert run.status is RunStatus.COMPLETED
    for step in done_before:
        assert server.count(f"/{step}") == 1
    assert server.count("/c") >= 1
    assert_events_whole(store, run.id)


def test_kill_during_a_delay_waits_only_for_what_is_left(tmp_path: Path,
                                                          server: LoopbackServer) -> None:
    server.route("/a", Answer(200, {}))
    server.route("/c", Answer(200, {}))
    db = tmp_path / "f.db"
    proc = start(tmp_path, {"name": "w", "nodes": [
        http("a", f"{server.url}/a"),
        {"id": "d", "type": "delay", "data": {"config": {"seconds": 1.5}}},
        http("c", f"{server.url}/c")], "edges": chain("a", "d", "c")}, db)
    store = open_store(db)
    wait_until(lambda: store.list_runs() and "due_at" in only_run(store).steps["d"].state)
    due_before = only_run(store).steps["d"].state["due_at"]
    kill(proc)
    result = resume(db)
    assert result.returncode == 0, result.stderr
    run = only_run(store)
    assert run.status is RunStatus.COMPLETED
    assert run.steps["d"].state["due_at"] == due_before  # the due time survived the crash
    assert run.steps["d"].output["waited_seconds"] >= 1.5  # counted from the first start
    assert run.steps["d"].finished_at >= due_before
    assert (server.count("/a"), server.count("/c")) == (1, 1)
    assert_events_whole(store, run.id)


def test_kill_while_paused_keeps_the_wait_and_the_decision_goes_on(
        tmp_path: Path, server: LoopbackServer) -> None:
    gate = threading.Event()
    server.route("/side", Answer(200, {}, gate=gate))
    server.route("/after", Answer(200, {}))
    db = tmp_path / "f.db"
    proc = start(tmp_path, {"name": "w", "nodes": [
        {"id": "ok", "type": "wait_for_approval", "data": {"config": {"title": "Go?"}}},
        http("side", f"{server.url}/side"),
        http("after", f"{server.url}/after")],
        "edges": [{"id": "e", "source": "ok", "target": "after", "sourceHandle": "approved"}]},
        db)
    store = open_store(db)
    server.wait_for_hit("/side")
    wait_until(lambda: only_run(store).steps["ok"].status is StepStatus.WAITING)
    kill(proc)
    gate.set()
    result = resume(db)
    assert result.returncode == 3, result.stderr  # paused again: waiting for the decision
    run = only_run(store)
    assert run.status is RunStatus.PAUSED
    assert run.steps["ok"].status is StepStatus.WAITING
    assert run.steps["ok"].state["wait"]["title"] == "Go?"
    approve = subprocess.run([sys.executable, "-m", "flowdesk", "approve", run.id[:8], "ok",
                              "--comment", "fine"], env=env(db), capture_output=True, text=True,
                             timeout=60)
    assert approve.returncode == 0, approve.stderr
    run = only_run(store)
    assert run.status is RunStatus.COMPLETED
    assert run.steps["ok"].output["comment"] == "fine"
    assert server.count("/after") == 1
    assert server.count("/side") == 2
    assert_events_whole(store, run.id)


def test_two_processes_resume_each_run_once(tmp_path: Path, server: LoopbackServer) -> None:
    gate = threading.Event()
    server.route("/slow", Answer(200, {}, gate=gate))
    counted: dict[str, int] = {}

    def after(hit):
        counted[hit.query["run"][0]] = counted.get(hit.query["run"][0], 0) + 1
        return Answer(200, {}, delay=0.05)

    server.route("/after", after)
    db = tmp_path / "f.db"
    workflow = {"name": "w", "nodes": [
        http("slow", f"{server.url}/slow"),
        {"id": "after", "type": "http_request",
         "data": {"config": {"url": f"{server.url}/after", "params": {"run": "{{ run.id }}"}}}}],
        "edges": chain("slow", "after")}
    procs = [start(tmp_path, workflow, db) for _ in range(4)]
    server.wait_for_hit("/slow", 4)
    for proc in procs:
        kill(proc)
    gate.set()
    cmd = [sys.executable, "-m", "flowdesk", "resume", "-q"]
    racers = [subprocess.Popen(cmd, env=env(db), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [r.communicate(timeout=120) for r in racers]
    assert all(r.returncode == 0 for r in racers), outs
    store = open_store(db)
    runs = store.list_runs()
    assert len(runs) == 4
    assert all(r.status is RunStatus.COMPLETED for r in runs)
    assert counted == {r.id: 1 for r in runs}  # each run's next step executed exactly once
    for run in runs:
        assert_events_whole(store, run.id)


def test_cancel_from_another_process(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk", "run", "-q", str(tmp_path / "wf.json")],
        env=env(db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ) if (tmp_path / "wf.json").write_text(json.dumps({"name": "w", "nodes": [
        {"id": "d", "type": "delay", "data": {"config": {"seconds": 60}}}]})) else None
    assert proc is not None
    store = open_store(db)
    wait_until(lambda: store.list_runs() and
               only_run(store).steps["d"].status is StepStatus.RUNNING)
    run_id = only_run(store).id
    cancel = subprocess.run([sys.executable, "-m", "flowdesk", "cancel", run_id, "--reason",
                             "changed my mind"], env=env(db), capture_output=True, text=True,
                            timeout=60)
    assert proc.wait(30) == 1  # the running process stopped, exiting like a cancelled run
    proc.stderr.close()
    assert cancel.returncode == 1
    run = only_run(store)
    assert run.status is RunStatus.CANCELLED
    assert run.error == "changed my mind"
    assert run.steps["d"].status is StepStatus.CANCELLED
