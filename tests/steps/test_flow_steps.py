"""for_each, function_call, transform, delay, webhook."""

from __future__ import annotations

import time

from flowdesk.engine import Engine
from flowdesk.engine.functions import FunctionRegistry, default_functions, function
from flowdesk.model import RunStatus, Workflow
from tests.helpers.registry import Journal, wf


def W(*a, **k) -> Workflow:
    return Workflow.model_validate(wf(*a, **k))


async def test_for_each_keeps_item_order_and_bounds_concurrency(engine: Engine,
                                                                journal: Journal) -> None:
    items = [0.15, 0.01, 0.1, 0.02, 0.05, 0.01]
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": "{{ input.delays }}", "concurrency": 2,
        "step": {"type": "echo", "config": {"value": "{{ index }}:{{ item }}",
                                            "sleep": "{{ item }}"}}}}]), {"delays": items})
    out = run.steps["loop"].output
    assert out["results"] == [f"{i}:{d}" for i, d in enumerate(items)]
    assert out["count"] == 6 and out["failed"] == 0
    assert journal.max_running == 2


async def test_for_each_fail_fast(engine: Engine) -> None:
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [1, 2, 3],
        "step": {"type": "condition", "config": {"expression": "10 / (item - 2) > 0"}}}}]))
    assert run.status is RunStatus.FAILED
    assert "item 1 failed" in run.steps["loop"].error


async def test_for_each_collects_failures_without_fail_fast(engine: Engine) -> None:
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [1, 2, 3], "fail_fast": False,
        "step": {"type": "condition", "config": {"expression": "10 / (item - 2) > 0"}}}}]))
    out = run.steps["loop"].output
    assert out["failed"] == 1
    assert out["results"][0] == {"result": False}
    assert "ZeroDivisionError" in out["results"][1]["error"]


async def test_for_each_item_spec_has_its_own_retry(engine: Engine) -> None:
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [1, 2],
        "step": {"type": "flaky", "config": {"failures": 1},
                 "retry": {"max_attempts": 2, "base_seconds": 0}}}}]))
    assert run.steps["loop"].output["results"] == [{"attempt": 2}, {"attempt": 2}]


async def test_for_each_runs_a_saved_workflow_per_item(engine: Engine) -> None:
    engine.store.save_workflow(W([{"id": "double", "type": "transform",
                                   "config": {"output": {"v": "{{ input.n }}"}}}],
                                 name="child"))
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [{"n": 1}, {"n": 2}], "workflow": "child"}}]))
    assert run.steps["loop"].output["results"] == [{"double": {"v": 1}}, {"double": {"v": 2}}]
    children = engine.store.list_runs(parent_run_id=run.id)
    assert len(children) == 2
    assert all(c.parent_step_id == "loop" for c in children)


async def test_for_each_items_must_be_a_list(engine: Engine) -> None:
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": "{{ input.x }}", "step": {"type": "echo"}}}]), {"x": 5})
    assert "'items' must be a list, got int" in run.steps["loop"].error


@function("tests.add")
def _add(a: int, b: int = 1) -> int:
    return a + b


@function("tests.async_greet")
async def _greet(name: str) -> str:
    return f"hello {name}"


async def test_function_call_sync_and_async(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "add", "type": "function_call",
         "config": {"function": "tests.add", "args": {"a": "{{ input.a }}"}}},
        {"id": "greet", "type": "function_call",
         "config": {"function": "tests.async_greet", "args": {"name": "Ada"}}}]), {"a": 41})
    assert run.steps["add"].output == 42
    assert run.steps["greet"].output == "hello Ada"


async def test_function_call_errors(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "x", "type": "function_call", "config": {"function": "no.such"},
         "continue_on_error": True},
        {"id": "y", "type": "function_call",
         "config": {"function": "tests.add", "args": {"zzz": 1}}, "continue_on_error": True}]))
    assert "no function named 'no.such'" in run.steps["x"].error
    assert "cannot take these args" in run.steps["y"].error


def test_functions_load_from_the_plugin_folder_and_entry_points(tmp_path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "mine.py").write_text(
        "from flowdesk.engine.functions import function\n"
        "@function('mine.triple')\ndef triple(x):\n    return 3 * x\n")
    (folder / "broken.py").write_text("raise RuntimeError('oops')\n")
    registry = default_functions(folder)
    assert registry.get("mine.triple")(2) == 6
    assert registry.get("text.slugify")("Héllo World!") == "hello-world"  # entry point
    assert any("broken.py" in e and "oops" in e for e in registry.load_errors)


def test_function_registry_register() -> None:
    registry = FunctionRegistry()
    registry.register("x", lambda: 1)
    assert "x" in registry.names()


async def test_transform_jmespath(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "data", "config": {"value": {"orders": [{"id": 1, "total": 5},
                                                       {"id": 2, "total": 50}]}}},
        {"id": "q", "type": "transform",
         "config": {"jmespath": "orders[?total > `10`].id", "source": "{{ steps.data.output }}"}},
        {"id": "q2", "type": "transform", "config": {"jmespath": "input.k"}}],
        [("data", "q")]), {"k": "v"})
    assert run.steps["q"].output == [2]
    assert run.steps["q2"].output == "v"


async def test_delay(engine: Engine) -> None:
    started = time.monotonic()
    run = await engine.run(W([{"id": "d", "type": "delay", "config": {"seconds": 0.2}}]))
    assert time.monotonic() - started >= 0.2
    assert run.steps["d"].output["waited_seconds"] >= 0.2
    assert run.steps["d"].state["due_at"] > 0


async def test_delay_resumes_with_the_time_left(engine: Engine) -> None:
    workflow = W([{"id": "d", "type": "delay", "config": {"seconds": 100}}])
    run, _ = engine.start(workflow)
    now = time.time()
    # a previous process checkpointed the due time 99.7 s ago, then died
    engine.store.write(run.id, {"status": "running", "started_at": now - 99.7},
                       {"d": {"status": "running", "attempts": 1,
                              "state": {"due_at": now + 0.3, "started_at": now - 99.7}}}, [])
    started = time.monotonic()
    done = await engine.execute(run.id)
    assert time.monotonic() - started < 5
    assert done.status is RunStatus.COMPLETED
    assert done.steps["d"].output["waited_seconds"] >= 99.9


async def test_webhook_outputs_the_run_input(engine: Engine) -> None:
    run = await engine.run(W([{"id": "hook", "type": "webhook", "config": {"path": "orders"}},
                              {"id": "t", "type": "transform",
                               "config": {"output": "{{ steps.hook.output.body.id }}"}}],
                             [("hook", "t")]), {"body": {"id": 9}, "headers": {}, "query": {}})
    assert run.steps["t"].output == 9


async def test_for_each_records_a_crashing_item_as_that_item_failed(engine: Engine) -> None:
    # a handler bug inside for_each stays an "internal error" of that item (not a StepError,
    # but not a crash of the whole for_each either)
    run = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [1, 2], "fail_fast": False, "step": {"type": "boom"}}}]))
    assert run.status is RunStatus.COMPLETED
    out = run.steps["loop"].output
    assert out["failed"] == 2
    assert out["results"][0] == {"error": "internal error: RuntimeError: a bug in a handler"}
    fast = await engine.run(W([{"id": "loop", "type": "for_each", "config": {
        "items": [1], "step": {"type": "boom"}}}], name="fast"))
    assert fast.status is RunStatus.FAILED
    assert fast.steps["loop"].error == \
        "item 0 failed: internal error: RuntimeError: a bug in a handler"
