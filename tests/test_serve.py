"""`flowdesk serve` as a real process: webhooks, secrets, errors, schedules, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flowdesk.model import RunStatus
from flowdesk.store import open_store
from tests.helpers.processes import cli_env as env
from tests.helpers.processes import free_port

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals")


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowdesk", *args], env=env(tmp_path),
                          capture_output=True, text=True, timeout=60)


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def served(tmp_path: Path):
    hook = {"name": "Orders in", "nodes": [
        {"id": "hook", "type": "webhook",
         "data": {"config": {"path": "orders", "secret": "s3cret"}}},
        {"id": "total", "type": "transform",
         "data": {"config": {"output": "{{ steps.hook.output.body.total }}"}}}],
        "edges": [{"id": "e", "source": "hook", "target": "total"}]}
    tick = {"name": "Every second", "nodes": [
        {"id": "tick", "type": "schedule", "data": {"config": {"cron": "* * * * * *"}}},
        {"id": "note", "type": "transform",
         "data": {"config": {"output": "{{ steps.tick.output.scheduled_at }}"}}}],
        "edges": [{"id": "e", "source": "tick", "target": "note"}]}
    for data in (hook, tick):
        path = tmp_path / f"{data['name']}.json"
        path.write_text(json.dumps(data))
        assert run_cli(tmp_path, "import", str(path)).returncode == 0
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "flowdesk", "serve", "--port", str(port)],
                            env=env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up)
    yield proc, base
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    proc.stderr.close()


def test_webhooks_start_runs_and_refuse_bad_requests(served, tmp_path: Path) -> None:
    _proc, base = served
    ok = httpx.post(f"{base}/hooks/orders", json={"total": 42},
                    headers={"X-Flowdesk-Secret": "s3cret"})
    assert ok.status_code == 202, ok.text
    run_id = ok.json()["run_id"]
    store = open_store(tmp_path / "f.db")
    wait_until(lambda: store.get_run(run_id).status is RunStatus.COMPLETED)
    run = store.get_run(run_id)
    assert run.steps["total"].output == 42
    assert "x-flowdesk-secret" not in run.input["headers"]  # the secret is not recorded
    by_query = httpx.post(f"{base}/hooks/orders?secret=s3cret", json={"total": 1})
    assert by_query.status_code == 202
    assert httpx.post(f"{base}/hooks/orders", json={}).status_code == 401
    assert httpx.post(f"{base}/hooks/orders", json={},
                      headers={"X-Flowdesk-Secret": "nope"}).status_code == 401
    assert httpx.post(f"{base}/hooks/unknown", json={}).status_code == 404
    assert httpx.get(f"{base}/hooks/orders").status_code == 405
    big = httpx.post(f"{base}/hooks/orders", content=b"x" * (2 * 1024 * 1024),
                     headers={"X-Flowdesk-Secret": "s3cret"})
    assert big.status_code == 413


def test_schedules_fire_and_sigterm_stops_cleanly(served, tmp_path: Path) -> None:
    proc, _ = served
    store = open_store(tmp_path / "f.db")
    wait_until(lambda: len(store.list_runs(workflow="Every second")) >= 2, timeout=20)
    runs = store.list_runs(workflow="Every second")
    first = store.get_run(runs[-1].id)
    assert first.input["cron"] == "* * * * * *"
    assert first.steps["note"].output == first.input["scheduled_at"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert "stopping" in proc.stderr.read()
