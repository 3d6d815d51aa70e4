"""The HTTP API of `flowdesk serve`, against the real server on 127.0.0.1: tokens, runs,
approvals decided once, events, cancel and retry, and the same limits as the webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowdesk.model import Workflow
from flowdesk.resources import examples_dir
from flowdesk.tokens import create_token, list_tokens, revoke_token
from tests.test_webhook_input import Served


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Served, httpx.Client, str]]:
    server = Served(tmp_path / "f.db")
    server.store.save_workflow(Workflow.model_validate(
        json.loads((examples_dir() / "approval-gate.json").read_text())), new_version=True)
    server.store.save_workflow(Workflow.model_validate({"name": "Slow", "nodes": [
        {"id": "wait", "type": "delay", "data": {"config": {"seconds": 30}}}]}))
    server.store.save_workflow(Workflow.model_validate({"name": "Breaks", "nodes": [
        {"id": "t", "type": "transform",
         "data": {"config": {"output": "{{ input.missing.deeper }}"}}}]}))
    token = create_token(server.store, "ci-bot")
    client = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    yield server, client, token
    client.close()
    server.close()


def wait_for(check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_tokens_are_needed_kept_hashed_and_revocable(api) -> None:
    server, client, token = api
    base = client.base_url
    assert httpx.get(f"{base}/api/v1/workflows").status_code == 401
    wrong = httpx.get(f"{base}/api/v1/workflows", headers={"Authorization": "Bearer fd_nope"})
    assert wrong.status_code == 401 and "flowdesk tokens create" in wrong.json()["error"]
    assert client.get("/api/v1/workflows").status_code == 200
    stored = json.dumps(server.store.all_settings())
    assert token not in stored  # only its hash is kept
    assert [t.name for t in list_tokens(server.store)] == ["ci-bot"]
    revoke_token(server.store, "ci-bot")
    assert client.get("/api/v1/workflows").status_code == 401


def test_start_a_run_and_read_all_of_it(api) -> None:
    _server, client, _ = api
    names = [w["name"] for w in client.get("/api/v1/workflows").json()["workflows"]]
    assert {"Refund approval", "Slow", "Breaks"} <= set(names)
    body = {"input": {"order_id": "Q-1", "amount": 20, "reason": "late"},
            "idempotency_key": "order-Q-1"}
    first = client.post("/api/v1/workflows/Refund%20approval/runs", json=body)
    assert first.status_code == 202, first.text
    run_id = first.json()["run_id"]
    again = client.post("/api/v1/workflows/Refund%20approval/runs", json=body)
    assert again.json() == {**again.json(), "run_id": run_id, "created": False}
    run = wait_for(lambda: (lambda r: r if r["status"] == "paused" else None)(
        client.get(f"/api/v1/runs/{run_id}").json()))  # small amount: waits for the event
    assert run["input"] == body["input"] and run["workflow_version"] == 1
    assert run["created_at"] and run["started_at"]
    auto = run["steps"]["auto"]
    assert auto["status"] == "completed" and auto["attempts"] == 1
    assert auto["input"] is not None and auto["output"] is not None
    assert client.post("/api/v1/workflows/Refund%20approval/runs",
                       json={"input": {"amount": "x"}}).status_code == 422
    assert client.post("/api/v1/workflows/Nope/runs", json={}).status_code == 404


def test_an_approval_is_decided_once_then_an_event_carries_the_run_on(api) -> None:
    _server, client, _ = api
    run_id = client.post("/api/v1/workflows/Refund%20approval/runs", json={
        "input": {"order_id": "Q-9", "amount": 120, "reason": "late"}}).json()["run_id"]
    waiting = wait_for(lambda: client.get("/api/v1/approvals").json()["approvals"])
    assert [(w["run_id"], w["step_id"]) for w in waiting] == [(run_id, "approve")]
    ok = client.post(f"/api/v1/runs/{run_id}/steps/approve/approve",
                     json={"comment": "fine", "data": {"ticket": 7}})
    assert ok.status_code == 200, ok.text
    late = client.post(f"/api/v1/runs/{run_id}/steps/approve/reject", json={})
    assert late.status_code == 409 and "not waiting" in late.json()["error"]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}").json()["steps"]["confirmed"]
             ["status"] == "waiting")
    out = client.get(f"/api/v1/runs/{run_id}").json()["steps"]["approve"]["output"]
    assert (out["approved"], out["comment"], out["data"]) == (True, "fine", {"ticket": 7})
    assert out["decided_by"] == "api:ci-bot"
    woke = client.post("/api/v1/events/refund.confirmed", json={"key": "Q-9", "data": {"r": 1}})
    assert woke.json()["woke"] == [run_id]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}").json()["status"] == "completed")


def test_cancel_and_retry(api) -> None:
    _server, client, _ = api
    slow = client.post("/api/v1/workflows/Slow/runs", json={}).json()["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{slow}").json()["status"] == "running")
    cancelled = client.post(f"/api/v1/runs/{slow}/cancel", json={})
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    broken = client.post("/api/v1/workflows/Breaks/runs", json={}).json()["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{broken}").json()["status"] == "failed")
    assert client.post(f"/api/v1/runs/{broken}/retry", json={"definition": "x"}
                       ).status_code == 400
    assert client.post(f"/api/v1/runs/{broken}/retry", json={}).status_code == 202
    wait_for(lambda: len(client.get(f"/api/v1/runs/{broken}").json()["steps"]["t"]
                         ["attempt_log"]) == 2)  # the retry ran it again
    running = client.post("/api/v1/workflows/Slow/runs", json={}).json()["run_id"]
    assert client.post(f"/api/v1/runs/{running}/retry", json={}).status_code == 409


def test_api_errors_are_answered_like_the_webhooks(api) -> None:
    _server, client, _ = api
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/api/v2/workflows").status_code == 404
    assert client.delete("/api/v1/workflows").status_code == 405
    bad = client.post("/api/v1/events/x", content=b"{not json")
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    assert client.post("/api/v1/events/x", content=b"x" * (2 * 1024 * 1024)
                       ).status_code == 413
    assert client.get("/api/v1/runs/0000").status_code == 404
