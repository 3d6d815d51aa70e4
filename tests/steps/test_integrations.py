"""llm_call, database_query, send_email and the workflow step, against real local peers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from flowdesk.engine import Engine
from flowdesk.engine.validation import validate
from flowdesk.model import EventType, RunStatus, Workflow
from flowdesk.steps import default_registry
from tests.helpers.httpserver import Answer, Hit, LoopbackServer
from tests.helpers.registry import wf


def W(*a, **k) -> Workflow:
    return Workflow.model_validate(wf(*a, **k))


def chat_answer(text: str, finish: str = "stop") -> Answer:
    return Answer(200, {"id": "c1", "model": "tiny", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": finish}], "usage": {"prompt_tokens": 5, "completion_tokens": 2}})


async def test_llm_call_against_an_openai_compatible_server(engine: Engine,
                                                            http_server: LoopbackServer) -> None:
    http_server.route("/v1/chat/completions", Answer(503, "busy"), chat_answer("Hello Ada"))
    run = await engine.run(W([{"id": "ask", "type": "llm_call", "config": {
        "base_url": f"{http_server.url}/v1", "api_key": "sk-test", "model": "tiny",
        "system": "Be brief.", "prompt": "Greet {{ input.name }}", "temperature": 0.2},
        "retry": {"max_attempts": 2, "base_seconds": 0}}]), {"name": "Ada"})
    assert run.status is RunStatus.COMPLETED
    assert run.steps["ask"].output == {"text": "Hello Ada", "model": "tiny",
                                       "usage": {"prompt_tokens": 5, "completion_tokens": 2},
                                       "finish_reason": "stop"}
    sent = json.loads(http_server.hits[-1].body)
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Greet Ada"}]
    assert http_server.hits[-1].headers["authorization"] == "Bearer sk-test"
    assert run.steps["ask"].attempts == 2  # the 503 was retried


async def test_llm_json_mode_parses_the_answer(engine: Engine, http_server) -> None:
    http_server.route("/v1/chat/completions", chat_answer('{"sentiment": "positive"}'))
    run = await engine.run(W([{"id": "ask", "type": "llm_call", "config": {
        "base_url": f"{http_server.url}/v1", "model": "tiny", "json_mode": True,
        "messages": [{"role": "user", "content": "Classify: great"}]}}]))
    assert run.steps["ask"].output["json"] == {"sentiment": "positive"}
    assert json.loads(http_server.hits[0].body)["response_format"] == {"type": "json_object"}


async def test_llm_streaming_publishes_progress(engine: Engine, http_server) -> None:
    chunks = ["Hel", "lo ", "there"]

    def stream(hit: Hit) -> Answer:
        lines = [json.dumps({"model": "tiny", "choices": [{"delta": {"content": c}}]})
                 for c in chunks]
        lines.append(json.dumps({"model": "tiny", "choices": [{"delta": {},
                                                               "finish_reason": "stop"}]}))
        body = "".join(f"data: {line}\n\n" for line in lines) + "data: [DONE]\n\n"
        return Answer(200, body, headers={"Content-Type": "text/event-stream"})

    http_server.route("/v1/chat/completions", stream)
    run = await engine.run(W([{"id": "ask", "type": "llm_call", "config": {
        "base_url": f"{http_server.url}/v1", "model": "tiny", "prompt": "hi",
        "stream": True}}]))
    assert run.steps["ask"].output["text"] == "Hello there"
    assert run.steps["ask"].output["finish_reason"] == "stop"
    progress = [e.payload["token"] for e in engine.store.get_events(run.id)
                if e.type is EventType.STEP_PROGRESS]
    assert progress == chunks


async def test_llm_4xx_is_not_retried(engine: Engine, http_server) -> None:
    http_server.route("/v1/chat/completions", Answer(401, {"error": "bad key"}))
    run = await engine.run(W([{"id": "ask", "type": "llm_call", "config": {
        "base_url": f"{http_server.url}/v1", "model": "tiny", "prompt": "hi"},
        "retry": {"max_attempts": 3, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED and run.steps["ask"].attempts == 1
    assert "answered 401" in run.steps["ask"].error


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
    conn.executemany("INSERT INTO orders (customer, total) VALUES (?, ?)",
                     [("ada", 10), ("grace", 250), ("ada", 75), ("linus", 5)])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


async def test_database_query_binds_parameters(engine: Engine, shop: str) -> None:
    run = await engine.run(W([{"id": "q", "type": "database_query", "config": {
        "url": shop, "query": "SELECT customer, SUM(total) AS spent FROM orders "
                              "WHERE total > :min GROUP BY customer ORDER BY customer",
        "params": {"min": "{{ input.min }}"}}}]), {"min": 8})
    out = run.steps["q"].output
    assert out["columns"] == ["customer", "spent"]
    assert out["rows"] == [{"customer": "ada", "spent": 85.0},
                           {"customer": "grace", "spent": 250.0}]
    assert out["row_count"] == 2


async def test_database_writes_max_rows_and_injection_stays_data(engine: Engine,
                                                                 shop: str) -> None:
    evil = "x'); DROP TABLE orders; --"
    run = await engine.run(W([
        {"id": "ins", "type": "database_query", "config": {
            "url": shop, "query": "INSERT INTO orders (customer, total) VALUES (:c, 1)",
            "params": {"c": "{{ input.name }}"}}},
        {"id": "all", "type": "database_query", "config": {
            "url": shop, "query": "SELECT * FROM orders ORDER BY id", "max_rows": 3}}],
        [("ins", "all")]), {"name": evil})
    assert run.steps["ins"].output["rowcount"] == 1
    out = run.steps["all"].output
    assert out["row_count"] == 3 and out["truncated"] is True
    conn = sqlite3.connect(shop.removeprefix("sqlite:///"))
    assert conn.execute("SELECT customer FROM orders WHERE id = 5").fetchone() == (evil,)


async def test_database_read_only_refuses_writes(engine: Engine, shop: str) -> None:
    run = await engine.run(W([{"id": "q", "type": "database_query", "config": {
        "url": shop, "query": "DELETE FROM orders", "read_only": True}}]))
    assert run.status is RunStatus.FAILED
    assert "read_only" in run.steps["q"].error
    conn = sqlite3.connect(shop.removeprefix("sqlite:///"))
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone() == (4,)


def test_a_template_inside_sql_is_refused_by_validation() -> None:
    problems = validate(W([{"id": "q", "type": "database_query", "config": {
        "url": "sqlite://", "query": "SELECT * FROM t WHERE id = {{ input.id }}"}}]),
        default_registry())
    assert any("use" in p.message and "params" in p.message and p.field == "query"
               for p in problems)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


async def test_send_email_through_a_real_smtp_server(engine: Engine, smtp_server) -> None:
    run = await engine.run(W([{"id": "mail", "type": "send_email", "config": {
        "host": "127.0.0.1", "port": smtp_server.port, "from": "flowdesk@example.com",
        "to": ["{{ input.to }}"], "cc": ["boss@example.com"], "bcc": ["audit@example.com"],
        "subject": "Order {{ input.order }} shipped",
        "text": "Hi, order {{ input.order }} is on its way.",
        "html": "<p>Order <b>{{ input.order }}</b> is on its way.</p>"}}]),
        {"to": "ada@example.com", "order": "A-7"})
    assert run.status is RunStatus.COMPLETED, run.error
    out = run.steps["mail"].output
    assert out["accepted"] == ["ada@example.com", "boss@example.com", "audit@example.com"]
    message = smtp_server.received[0]
    assert message["Subject"] == "Order A-7 shipped"
    assert message["Message-ID"] == out["message_id"]
    assert "Bcc" not in message
    parts = {p.get_content_type(): p.get_payload(decode=True).decode()
             for p in message.walk() if not p.is_multipart()}
    assert "A-7 is on its way" in parts["text/plain"]
    assert "<b>A-7</b>" in parts["text/html"]


async def test_send_email_connection_refused_is_retriable(engine: Engine) -> None:
    run = await engine.run(W([{"id": "mail", "type": "send_email", "config": {
        "host": "127.0.0.1", "port": 1, "from": "a@b.c", "to": ["x@y.z"], "text": "hi"},
        "retry": {"max_attempts": 2, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED and run.steps["mail"].attempts == 2


async def test_workflow_step_runs_a_child(engine: Engine) -> None:
    engine.store.save_workflow(W([{"id": "greet", "type": "transform",
                                   "config": {"output": "hi {{ input.who }}"}}], name="greeter"))
    run = await engine.run(W([{"id": "sub", "type": "workflow", "config": {
        "workflow": "greeter", "input": {"who": "{{ input.name }}"}}}]), {"name": "Ada"})
    assert run.steps["sub"].output == {"greet": "hi Ada"}
    child = engine.store.list_runs(parent_run_id=run.id)[0]
    assert child.parent_step_id == "sub" and child.status is RunStatus.COMPLETED


async def test_send_email_with_a_stored_credential(engine: Engine, smtp_server) -> None:
    from flowdesk.secrets import SecretResolver

    engine.services.secrets = SecretResolver(values={"MAIL": {
        "host": "127.0.0.1", "port": smtp_server.port, "password": "hunter2-password"}})
    run = await engine.run(W([{"id": "mail", "type": "send_email", "config": {
        "credential": "MAIL", "from": "a@example.com", "to": ["b@example.com"],
        "text": "hello", "password": "{{ secrets.MAIL.password }}"}}]))
    assert run.status is RunStatus.COMPLETED, run.error
    assert smtp_server.received[0]["To"] == "b@example.com"
    recorded = json.dumps(run.steps["mail"].state["input"], ensure_ascii=False)
    assert "hunter2-password" not in recorded and "••••••" in recorded


async def test_a_missing_credential_says_how_to_add_it(engine: Engine) -> None:
    run = await engine.run(W([{"id": "q", "type": "database_query", "config": {
        "credential": "NOPE", "query": "SELECT 1"}}]))
    assert "no credential named 'NOPE'" in run.steps["q"].error
    assert "flowdesk secrets set NOPE --json" in run.steps["q"].error


async def test_send_email_takes_plain_address_strings(engine: Engine, smtp_server) -> None:
    run = await engine.run(W([{"id": "mail", "type": "send_email", "config": {
        "host": "127.0.0.1", "port": smtp_server.port, "from": "flowdesk@example.com",
        "to": "ada@example.com", "cc": "{{ input.cc }}", "text": "hi"}}]),
        {"cc": '"Boss, The" <boss@example.com>, grace@example.com'})
    assert run.status is RunStatus.COMPLETED, run.error
    assert run.steps["mail"].output["accepted"] == [
        "ada@example.com", '"Boss, The" <boss@example.com>', "grace@example.com"]
    assert smtp_server.received[0]["Cc"] == '"Boss, The" <boss@example.com>, grace@example.com'
    problems = validate(W([{"id": "mail", "type": "send_email", "config": {
        "host": "h", "from": "a@b.c", "to": "x@y.z", "text": "hi"}}]), default_registry())
    assert problems == []
    problems = validate(W([{"id": "mail", "type": "send_email", "config": {
        "host": "h", "from": "a@b.c", "to": "Doe, Jane <j@y.z>", "text": "hi"}}]),
        default_registry())
    assert [p.field for p in problems] == ["to"]
    assert "'Doe' is not an email address" in problems[0].message
