"""n8n exports (written as n8n writes them, several node versions) converted to flowdesk
workflows and run by flowdesk's engine against a loopback server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowdesk.engine import Engine
from flowdesk.engine.validation import validate
from flowdesk.importers import load_workflow_data, load_workflow_file
from flowdesk.model import RunStatus
from flowdesk.model.errors import WorkflowFileError
from flowdesk.steps import default_registry
from flowdesk.store import Store
from tests.helpers.httpserver import Answer, Hit, LoopbackServer

HERE = Path(__file__).parent / "n8n"


def export(name: str, server: LoopbackServer | None = None) -> dict[str, Any]:
    text = (HERE / name).read_text()
    if server is not None:
        text = text.replace("BASE_URL", server.url)
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture
async def real_engine(store: Store):
    eng = Engine(store, default_registry(), poll_interval=0.05)
    yield eng
    await eng.aclose()


def problems_of(result: Any, node_id: str) -> list[str]:
    return [p.message for p in result.problems if p.node_id == node_id]


def test_a_modern_export_converts_with_labels_ids_positions_and_notes() -> None:
    result = load_workflow_data(export("orders-webhook.json"))
    wf = result.workflow
    assert result.source == "n8n"
    assert validate(wf, default_registry()) == []
    by_id = {n.id: n for n in wf.nodes}
    assert by_id["get_customer"].label == "Get customer"
    assert by_id["no_operation_do_nothing"].type == "transform"
    assert (by_id["needs_review"].position.x, by_id["needs_review"].position.y) == (680, 300)
    assert {(e.source, e.target, e.source_handle) for e in wf.edges} >= {
        ("needs_review", "ask_for_review", "true"), ("needs_review", "edit_fields", "false")}
    # the n8n sticky note is kept, and each node with problems gets one listing them
    notes = (wf.model_extra or {})["notes"]
    assert any(n["text"].startswith("## Order intake") for n in notes)
    assert any("Summarise" in n["text"] and "Python" in n["text"] for n in notes)
    # $env.X is flowdesk's secret X; the item is traced to the step that produced it
    http = by_id["get_customer"].data.config
    assert http["headers"] == {"X-Api-Key": "{{ secrets.CRM_KEY }}"}
    assert http["params"]["order"] == "{{ input.body.order_id }}"
    cond = by_id["needs_review"].data.config["expression"]
    assert cond == ('((input.body.total * 1.2) > 100) and '
                    '(steps.get_customer.output.body.tier != "GOLD")')
    assert by_id["get_customer"].data.retry is not None
    assert by_id["get_customer"].data.retry.max_attempts == 2


async def test_a_modern_export_runs_both_branches(real_engine: Engine,
                                                 http_server: LoopbackServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDESK_SECRETS", "file")
    customers = {"7": {"id": 7, "name": "ada", "tier": "SILVER"},
                 "8": {"id": 8, "name": "bob", "tier": "GOLD"}}
    http_server.route("/customers/7", Answer(body=customers["7"]))
    http_server.route("/customers/8", Answer(body=customers["8"]))
    http_server.route("/reviews", lambda hit: Answer(body={"review": json.loads(hit.body)}))
    wf = load_workflow_data(export("orders-webhook.json", http_server)).workflow
    from flowdesk.secrets import SecretResolver, SecretStore

    SecretStore().set("CRM_KEY", "k-123")
    real_engine.services.secrets = SecretResolver(SecretStore())

    big = await real_engine.run(wf, {"body": {"customer_id": 7, "order_id": "A-1",
                                              "total": 90}, "headers": {}, "query": {}})
    assert big.status is RunStatus.COMPLETED, big.error
    assert http_server.headers_of("/customers/7", "X-Api-Key") == ["k-123"]
    assert big.steps["edit_fields"].status.value == "skipped"
    review = big.steps["ask_for_review"].output["body"]["review"]
    assert review == {"order": "A-1", "customer": 7, "note": "ADA needs a look",
                      "gross": pytest.approx(108.0)}
    summary = big.steps["summarise"].output["result"]
    assert summary["checked"] == 1 and summary["merged"]["review"]["order"] == "A-1"

    small = await real_engine.run(wf, {"body": {"customer_id": 8, "order_id": "B-2",
                                                "total": 50}, "headers": {}, "query": {}})
    assert small.status is RunStatus.COMPLETED, small.error
    assert small.steps["ask_for_review"].status.value == "skipped"
    fields = small.steps["edit_fields"].output
    assert fields == {"id": 8, "name": "bob", "tier": "GOLD", "status": "auto-approved",
                      "customer": {"name": "bob"}, "greeting": "Hello bob, order B-2",
                      "points": 5.0, "vip": True}
    assert small.steps["summarise"].output["result"]["merged"]["status"] == "auto-approved"
