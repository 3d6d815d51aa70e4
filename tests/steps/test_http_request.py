from __future__ import annotations

import json

from flowdesk.engine import Engine
from flowdesk.model import RunStatus, Workflow
from tests.helpers.httpserver import Answer, LoopbackServer
from tests.helpers.registry import wf


def W(*a, **k) -> Workflow:
    return Workflow.model_validate(wf(*a, **k))


async def test_get_parses_json_and_renders_templates(engine: Engine,
                                                     http_server: LoopbackServer) -> None:
    http_server.route("/orders/42", Answer(200, {"id": 42, "items": [{"sku": "A"}]}))
    run = await engine.run(W([{"id": "get", "type": "http_request", "config": {
        "url": f"{http_server.url}/orders/{{{{ input.id }}}}", "params": {"full": True},
        "headers": {"X-Trace": "{{ run.id }}"}}}]), {"id": 42})
    out = run.steps["get"].output
    assert run.status is RunStatus.COMPLETED
    assert out["status_code"] == 200
    assert out["body"]["items"][0]["sku"] == "A"
    assert out["elapsed_ms"] > 0
    hit = http_server.hits[0]
    assert hit.query == {"full": ["true"]}
    assert hit.headers["x-trace"] == run.id


async def test_post_json_body_and_idempotency_header(engine: Engine,
                                                     http_server: LoopbackServer) -> None:
    http_server.route("/pay", Answer(201, "ok"))
    run = await engine.run(W([{"id": "pay", "type": "http_request", "config": {
        "method": "POST", "url": f"{http_server.url}/pay", "json": {"amount": "{{ input.n }}"},
        "idempotency_header": "Idempotency-Key"}}]), {"n": 5})
    assert run.steps["pay"].output["body"] == "ok"
    hit = http_server.hits[0]
    assert json.loads(hit.body) == {"amount": 5}
    assert hit.headers["idempotency-key"] == f"{run.id}:pay"


async def test_5xx_and_429_are_retried_then_succeed(engine: Engine,
                                                    http_server: LoopbackServer) -> None:
    http_server.route("/flaky", Answer(503, "busy"), Answer(429, "slow down"), Answer(200, {}))
    run = await engine.run(W([{"id": "f", "type": "http_request",
                               "config": {"url": f"{http_server.url}/flaky"},
                               "retry": {"max_attempts": 3, "base_seconds": 0.01}}]))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["f"].attempts == 3
    errors = [a.error for a in run.steps["f"].attempt_log]
    assert "answered 503" in errors[0] and "answered 429" in errors[1] and errors[2] is None
    assert http_server.count("/flaky") == 3


async def test_4xx_fails_at_once(engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/missing", Answer(404, {"error": "nope"}))
    run = await engine.run(W([{"id": "f", "type": "http_request",
                               "config": {"url": f"{http_server.url}/missing"},
                               "retry": {"max_attempts": 5, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert http_server.count("/missing") == 1
    assert "answered 404 Not Found" in run.steps["f"].error


async def test_4xx_can_be_an_output_when_asked(engine: Engine, http_server) -> None:
    http_server.route("/missing", Answer(404, {"error": "nope"}))
    run = await engine.run(W([{"id": "f", "type": "http_request", "config": {
        "url": f"{http_server.url}/missing", "fail_on_status": False}}]))
    assert run.steps["f"].output["status_code"] == 404


async def test_network_error_is_retriable(engine: Engine, http_server) -> None:
    port = http_server.port
    http_server.stop()
    run = await engine.run(W([{"id": "f", "type": "http_request",
                               "config": {"url": f"http://127.0.0.1:{port}/x"},
                               "retry": {"max_attempts": 2, "base_seconds": 0}}]))
    assert run.status is RunStatus.FAILED
    assert run.steps["f"].attempts == 2
    assert "ConnectError" in run.steps["f"].error
    http_server.httpd.socket = None  # already closed
    http_server.stop = lambda: None  # type: ignore[method-assign]


async def test_timeout_is_retriable(engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/slow", Answer(200, "late", delay=1.0))
    run = await engine.run(W([{"id": "f", "type": "http_request",
                               "config": {"url": f"{http_server.url}/slow",
                                          "timeout_seconds": 0.1},
                               "retry": {"max_attempts": 2, "base_seconds": 0}}]))
    assert run.steps["f"].attempts == 2
    assert "timed out" in run.steps["f"].error


async def test_response_size_cap(engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/big", Answer(200, b"x" * 50_000))
    run = await engine.run(W([{"id": "f", "type": "http_request", "config": {
        "url": f"{http_server.url}/big", "max_response_bytes": 10_000}}]))
    assert run.status is RunStatus.FAILED
    assert "response too large" in run.steps["f"].error


async def test_bad_url_is_a_config_error(engine: Engine) -> None:
    run = await engine.run(W([{"id": "f", "type": "http_request",
                               "config": {"url": "ftp://example"}}]))
    assert "must start with http://" in run.steps["f"].error


async def test_the_urls_own_query_is_kept_and_params_are_added(
        engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/x/y", Answer(200, {"ok": True}))
    query = "fail=2&z=1&z=a%2Fb&e=%E2%82%AC&sp=a+b"
    run = await engine.run(W([
        {"id": "plain", "type": "http_request",
         "config": {"url": f"{http_server.url}/x/y?{query}"}},
        {"id": "merged", "type": "http_request",
         "config": {"url": f"{http_server.url}/x/y?{query}",
                    "params": {"k": "v w", "z": "{{ input.z }}", "n": 3}}}],
        [("plain", "merged")]), {"z": "é/&"})
    assert run.status is RunStatus.COMPLETED, run.error
    plain, merged = http_server.hits
    assert plain.raw_query == query  # no longer dropped
    assert plain.query == {"fail": ["2"], "z": ["1", "a/b"], "e": ["€"], "sp": ["a b"]}
    assert merged.raw_query == query + "&k=v+w&z=%C3%A9%2F%26&n=3"
    assert merged.query["z"] == ["1", "a/b", "é/&"]  # repeated keys all kept, in order
