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
from tests.helpers.httpserver import Answer, LoopbackServer

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


@pytest.fixture
def smtp_server() -> Any:
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


def chat_answer(text: str) -> Answer:
    return Answer(200, {"id": "c1", "model": "tiny", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, "completion_tokens": 2}})


async def test_services_export_runs_once_its_credentials_and_javascript_are_set(
        real_engine: Engine, store: Store, http_server: LoopbackServer, smtp_server: Any,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The journey of an imported workflow: convert, read the problems, do what they ask
    (store the credentials, port the JavaScript), run."""
    import sqlite3

    from flowdesk.model.workflow import Workflow
    from flowdesk.secrets import SecretResolver, SecretStore

    result = load_workflow_data(export("services.json"))
    wf = result.workflow
    assert validate(wf, default_registry()) == []
    assert wf.node("schedule_trigger").data.config == {"cron": "30 8 * * 1,4",
                                                       "timezone": "Europe/Paris"}
    query = wf.node("find_at_risk_customer").data.config
    assert ":p1" in query["query"] and "$1" not in query["query"]
    asked = {(p.node_id, p.field) for p in result.problems}
    assert {("find_at_risk_customer", "credential"), ("draft_message", "credential"),
            ("send_email", "credential"), ("record_contact", "credential"),
            ("count_words", "code"), ("wait_for_confirmation", "event_name")} <= asked
    assert "ollama_chat_model" not in {n.id for n in wf.nodes}  # folded into the chain
    chain = wf.node("basic_llm_chain").data.config
    assert chain["model"] == "llama3.2:latest" and chain["system"] == "Be terse."

    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE customers (name TEXT, email TEXT, score INT, region TEXT);
            INSERT INTO customers VALUES ('Ada', 'ada@example.com', 35, 'north'),
                                         ('Bob', 'bob@example.com', 20, 'south'),
                                         ('Cy', 'cy@example.com', 90, 'north');
            CREATE TABLE contacts (email TEXT, channel TEXT);""")
    monkeypatch.setenv("FLOWDESK_SECRETS", "file")
    secrets = SecretStore()
    secrets.set("POSTGRES_MAIN", {"url": f"sqlite:///{db}"})
    secrets.set("CRM_MYSQL", {"url": f"sqlite:///{db}"})
    secrets.set("OPENAI_ACCOUNT", {"api_key": "sk-test", "base_url": f"{http_server.url}/v1"})
    secrets.set("SMTP_ACCOUNT", {"host": "127.0.0.1", "port": smtp_server.port})
    real_engine.services.secrets = SecretResolver(secrets)
    http_server.route("/v1/chat/completions", lambda hit: chat_answer(
        "We miss you, Ada!" if "kind" in hit.body.decode() else "Quiet week for Ada"))
    store.save_workflow(Workflow.model_validate({"name": "Log contact", "nodes": [
        {"id": "log", "type": "transform", "data": {"config": {
            "output": {"logged": "{{ input.accepted[0] }}"}}}}]}), new_version=True)
    # what the user does after reading the problems
    data = wf.to_dict()
    for node in data["nodes"]:
        if node["id"] == "basic_llm_chain":
            node["data"]["config"]["base_url"] = f"{http_server.url}/v1"
        if node["id"] == "count_words":
            node["data"]["config"]["code"] = (
                "result = {'words': len(steps['basic_llm_chain']['output']['text'].split())}")
    wf = Workflow.model_validate(data)

    run = await real_engine.run(wf, {})
    assert run.status is RunStatus.PAUSED, run.error
    assert run.steps["draft_message"].output["text"] == "We miss you, Ada!"
    mail = smtp_server.received[0]
    assert mail["To"] == "ada@example.com" and mail["Subject"] == "We miss you, Ada"
    assert "We miss you, Ada!" in mail.get_payload()
    assert run.steps["execute_workflow"].output == {"log": {"logged": "ada@example.com"}}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM contacts").fetchall() == [
            ("ada@example.com", "email")]
    assert run.steps["count_words"].output["result"] == {"words": 4}
    assert run.steps["wait_for_confirmation"].status.value == "waiting"

    assert real_engine.send_event("n8n.resume.wait_for_confirmation", run.id,
                                  {"ok": True}) == [run.id]
    done = await real_engine.execute(run.id)
    assert done.status is RunStatus.COMPLETED, done.error
    assert done.steps["wait_for_confirmation"].output["data"] == {"ok": True}


# -- recognising, errors, the command line and the app's loader ------------------------------
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_flowdesk_files_are_not_mistaken_for_n8n_exports() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        result = load_workflow_file(path)
        assert (result.source, result.problems) == ("flowdesk", []), path.name


def test_a_broken_export_names_what_and_where(tmp_path: Path) -> None:
    data = export("legacy-v1.json")
    data["connections"]["IF"]["main"][0][0]["node"] = "Gone"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(WorkflowFileError) as err:
        load_workflow_file(path)
    assert "broken.json" in str(err.value)
    assert "connections['IF'].main[0]: unknown node 'Gone'" in str(err.value)


def test_an_n8n_error_output_is_wired_to_the_error_port() -> None:
    data = export("legacy-v1.json")
    node = data["nodes"][1]
    node["onError"] = "continueErrorOutput"
    data["connections"]["HTTP Request"]["main"].append(
        [{"node": "Function", "type": "main", "index": 0}])
    result = load_workflow_data(data)
    messages = problems_of(result, "http_request")
    assert not any("error output" in m or "output 1 of" in m for m in messages)
    assert result.workflow.node("http_request").data.on_error == "error_output"
    assert any(e.source == "http_request" and e.target == "function"
               and e.source_handle == "error" for e in result.workflow.edges)


def flowdesk_cli(*args: str, db: Path) -> Any:
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "flowdesk", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "FLOWDESK_SECRETS": "file"})


def test_cli_validate_import_and_run_an_n8n_export(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    routing = str(HERE / "routing.json")
    checked = flowdesk_cli("validate", routing, db=db)
    assert checked.returncode == 0, checked.stderr
    assert "converted from n8n with 2 problem(s)" in checked.stderr
    assert "warning: node 'tell_slack'" in checked.stderr
    imported = flowdesk_cli("import", routing, db=db)
    assert imported.returncode == 0, imported.stderr
    assert "imported 'Ticket routing' (version 1)" in imported.stdout
    assert "n8n-nodes-base.slack" in imported.stderr
    ran = flowdesk_cli("run", "Ticket routing", "--input",
                       '{"kind": "praise", "title": "thanks", "tags": []}', "--json", db=db)
    assert ran.returncode == 0, ran.stderr
    steps = json.loads(ran.stdout)["steps"]
    assert steps["tell_slack"]["status"] == "completed"
    assert steps["file_bug"]["status"] == "skipped"
    exported = flowdesk_cli("export", "Ticket routing", db=db)
    assert json.loads(exported.stdout)["nodes"][1]["data"]["n8n"]["type"] == \
        "n8n-nodes-base.switch"


def test_the_apps_loader_imports_an_n8n_export_with_its_problems(qapp: Any,
                                                                 store: Store) -> None:
    from flowdesk.document.library import WorkflowLibrary

    library = WorkflowLibrary(store, default_registry())
    doc = library.open_file(HERE / "services.json")
    assert doc.name == "Weekly churn digest"
    assert {p.node_id for p in library.import_problems} >= {"count_words", "send_email"}
    assert any("port this to Python" in n["text"] for n in doc.notes)
    # valid; the one thing the editor flags is the sub-workflow that is not imported yet
    assert [(p.node_id, p.field) for p in doc.problems] == [("execute_workflow", "workflow")]
    stored, _ = store.get_workflow("Weekly churn digest")
    assert stored.node("count_words").data.model_extra["n8n"]["problems"][0]["field"] == "code"
    name = library.import_file(HERE / "legacy-v1.json")
    assert name == "Stock check (n8n 0.x)"
    assert [p.node_id for p in library.import_problems] == ["function"]


def _error_output_export(url: str) -> dict[str, Any]:
    """Start → Fetch (HTTP, "continue (using error output)") → Save | Alert (error output);
    Check (IF with an error output: true, false, error) after Save."""
    def node(name: str, type_: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"parameters": params, "name": name, "type": f"n8n-nodes-base.{type_}",
                "typeVersion": 2 if type_ == "if" else 4.2 if type_ == "httpRequest" else 1,
                "position": [0, 0], **extra}

    def to(*names: str) -> list[dict[str, Any]]:
        return [{"node": n, "type": "main", "index": 0} for n in names]

    return {"name": "errors", "nodes": [
        node("Start", "manualTrigger", {}),
        node("Fetch", "httpRequest", {"url": url}, onError="continueErrorOutput",
             continueOnFail=True),
        node("Save", "noOp", {}), node("Alert", "noOp", {}), node("Yes", "noOp", {}),
        node("Check", "if", {"conditions": {"conditions": [
            {"leftValue": "={{ $json.status_code }}", "rightValue": 200,
             "operator": {"type": "number", "operation": "equals"}}]}},
             onError="continueErrorOutput")],
        "connections": {"Start": {"main": [to("Fetch")]},
                        "Fetch": {"main": [to("Save"), to("Alert")]},
                        "Save": {"main": [to("Check")]},
                        "Check": {"main": [to("Yes"), [], to("Alert")]}}}


def test_n8n_error_output_becomes_the_error_port() -> None:
    result = load_workflow_data(_error_output_export("http://127.0.0.1:9/x"))
    wf = result.workflow
    assert validate(wf, default_registry()) == []
    assert not any("error output" in p.message for p in result.problems)
    fetch, check = wf.node("fetch").data, wf.node("check").data
    assert fetch.on_error == "error_output" and not fetch.continue_on_error
    assert check.on_error == "error_output"
    assert {(e.source, e.target, e.source_handle) for e in wf.edges} == {
        ("start", "fetch", None), ("fetch", "save", None), ("fetch", "alert", "error"),
        ("save", "check", None), ("check", "yes", "true"), ("check", "alert", "error")}
    # out of an error output n8n passes on the item the failing node received
    assert wf.node("alert").data.config == {"output": "{{ input }}"}


def test_reading_json_error_after_an_error_output_is_explained() -> None:
    data = _error_output_export("http://127.0.0.1:9/x")
    data["nodes"].append({"parameters": {"values": {"string": [
        {"name": "why", "value": "={{ $json.error }}"}]}}, "name": "Log",
        "type": "n8n-nodes-base.set", "typeVersion": 1, "position": [0, 0]})
    data["connections"]["Fetch"]["main"][1].append({"node": "Log", "type": "main",
                                                    "index": 0})
    result = load_workflow_data(data)
    assert any("steps.fetch.output.error.message" in m for m in problems_of(result, "log"))
    assert problems_of(result, "alert") == []


async def test_an_imported_error_output_catches_the_failure(
        real_engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/x", Answer(404, {"error": "no such order"}))
    wf = load_workflow_data(_error_output_export(f"{http_server.url}/x")).workflow
    run = await real_engine.run(wf)
    assert run.status is RunStatus.COMPLETED
    steps = {sid: s.status.value for sid, s in run.steps.items()}
    assert steps == {"start": "completed", "fetch": "failed", "save": "skipped",
                     "alert": "completed", "yes": "skipped", "check": "skipped"}
    assert "404" in run.steps["fetch"].output["error"]["message"]
    assert run.steps["fetch"].output["input"]["url"] == f"{http_server.url}/x"
    assert run.steps["alert"].output == {}  # the run input, which reached 'fetch'


def test_a_switch_with_an_error_output_routes_every_rule_step() -> None:
    def rule(value: str) -> dict[str, Any]:
        return {"conditions": {"conditions": [
            {"leftValue": "={{ $json.kind }}", "rightValue": value,
             "operator": {"type": "string", "operation": "equals"}}]}}

    noop = {"parameters": {}, "type": "n8n-nodes-base.noOp", "typeVersion": 1,
            "position": [0, 0]}
    data = {"name": "sw", "nodes": [
        {"parameters": {"rules": {"values": [rule("a"), rule("b")]}}, "name": "Route",
         "type": "n8n-nodes-base.switch", "typeVersion": 3, "position": [0, 0],
         "onError": "continueErrorOutput"},
        {**noop, "name": "A"}, {**noop, "name": "B"}, {**noop, "name": "Oops"}],
        "connections": {"Route": {"main": [
            [{"node": "A", "type": "main", "index": 0}],
            [{"node": "B", "type": "main", "index": 0}],
            [{"node": "Oops", "type": "main", "index": 0}]]}}}
    wf = load_workflow_data(data).workflow
    assert validate(wf, default_registry()) == []
    assert {(e.source, e.source_handle) for e in wf.edges if e.target == "oops"} == {
        ("route", "error"), ("route_rule2", "error")}
    assert wf.node("route_rule2").data.on_error == "error_output"
