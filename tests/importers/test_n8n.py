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


async def test_a_legacy_v1_export_runs_and_its_javascript_fails_loudly(
        real_engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/stock", lambda hit: Answer(body={
        "count": int(hit.query["sku"][0].split("-")[1]), "state": "ok"}))
    result = load_workflow_data(export("legacy-v1.json", http_server))
    wf = result.workflow
    assert validate(wf, default_registry()) == []
    assert [n.type for n in wf.nodes] == ["transform", "http_request", "condition",
                                          "transform", "inline_code"]
    assert any("port this to Python" in m for m in problems_of(result, "function"))
    assert "items[0].json.order = 50 - items[0].json.count;" in \
        wf.node("function").data.config["code"]

    plenty = await real_engine.run(wf, {"sku": "X-20"})
    assert plenty.status is RunStatus.COMPLETED, plenty.error
    assert http_server.hits[-1].query == {"sku": ["X-20"], "store": ["main"]}
    assert plenty.steps["set"].output == {"status": "plenty of X-20", "double": 40,
                                          "restock": False}
    low = await real_engine.run(wf, {"sku": "X-3"})
    assert low.status is RunStatus.FAILED
    assert low.steps["set"].status.value == "skipped"
    assert "port the n8n JavaScript" in (low.steps["function"].error or "")


async def test_a_switch_becomes_a_chain_of_conditions_in_rule_order(
        real_engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/bugs", lambda hit: Answer(201, {"filed": json.loads(hit.body)}))
    result = load_workflow_data(export("routing.json", http_server))
    wf = result.workflow
    assert validate(wf, default_registry()) == []
    assert {(e.source, e.target, e.source_handle) for e in wf.edges} == {
        ("when_clicking_test_workflow", "route_ticket", None),
        ("route_ticket", "file_bug", "true"),
        ("route_ticket", "route_ticket_rule2", "false"),
        ("route_ticket_rule2", "wait", "true"),
        ("route_ticket_rule2", "tell_slack", "false"),
        ("wait", "billing_queue", None)}
    # the unknown Slack node stays, as a placeholder with its parameters and a problem
    slack = wf.node("tell_slack")
    assert slack.type == "transform"
    assert slack.data.config["output"]["n8n_parameters"]["channel"] == "#support"
    assert any("n8n-nodes-base.slack" in m for m in problems_of(result, "tell_slack"))

    bug = await real_engine.run(wf, {"kind": "bug", "title": "  crash on save ",
                                     "tags": []})
    assert bug.status is RunStatus.COMPLETED, bug.error
    assert bug.steps["file_bug"].output["body"]["filed"] == {
        "title": "crash on save", "size": 16, "by": "anonymous"}
    assert bug.steps["route_ticket_rule2"].status.value == "skipped"

    billing = await real_engine.run(wf, {"kind": "question", "title": "refund",
                                         "tags": ["billing"], "amount": 12})
    assert billing.status is RunStatus.COMPLETED, billing.error
    queued = billing.steps["billing_queue"].output
    assert queued["queue"] == "billing" and queued["amount"] == 12
    assert queued["when"][:2] == "20" and "T" in queued["when"]  # $now → now(), ISO text
    assert billing.steps["tell_slack"].status.value == "skipped"

    other = await real_engine.run(wf, {"kind": "praise", "title": "thanks", "tags": []})
    assert other.status is RunStatus.COMPLETED, other.error
    assert other.steps["tell_slack"].status.value == "completed"  # the fallback output
    assert other.steps["wait"].status.value == "skipped"
