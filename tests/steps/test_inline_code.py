from __future__ import annotations

import asyncio
import time

import pytest

from flowdesk.engine import Engine
from flowdesk.model import RunStatus, Workflow
from tests.helpers.registry import wf


def W(*a, **k) -> Workflow:
    return Workflow.model_validate(wf(*a, **k))


def code(src: str, **extra) -> dict:
    return {"id": "code", "type": "inline_code", "config": {"code": src, **extra}}


async def test_code_reads_input_and_steps_and_sets_result(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "a", "config": {"value": [1, 2, 3]}},
        code("print('total', sum(steps['a']['output']))\n"
             "result = {'n': input['n'], 'sum': sum(steps['a']['output'])}")],
        [("a", "code")]), {"n": 7})
    assert run.steps["code"].output == {"result": {"n": 7, "sum": 6}, "stdout": "total 6\n"}


async def test_infinite_loop_is_stopped_and_the_engine_goes_on(engine: Engine) -> None:
    started = time.monotonic()
    run = await engine.run(W([code("while True:\n    pass", timeout_seconds=0.5),
                              {"id": "other", "config": {"value": 1, "sleep": 0.1}}]))
    assert time.monotonic() - started < 10
    assert run.status is RunStatus.FAILED
    assert "ran longer than 0.5 s and was stopped" in run.steps["code"].error
    assert run.steps["other"].status.value == "completed"
    again = await engine.run(W([code("result = 1 + 1")]))
    assert again.steps["code"].output["result"] == 2


async def test_memory_hog_fails_with_a_clear_error(engine: Engine) -> None:
    run = await engine.run(W([code("x = bytearray(5 * 1024 ** 3)\nresult = len(x)",
                                   memory_mb=256)]))
    assert run.status is RunStatus.FAILED
    assert "MemoryError" in run.steps["code"].error
    assert "256 MB" in run.steps["code"].error


async def test_code_errors_name_the_line(engine: Engine) -> None:
    run = await engine.run(W([code("a = 1\nb = a / 0\n")]))
    assert "ZeroDivisionError: division by zero (line 2)" in run.steps["code"].error


async def test_syntax_error(engine: Engine) -> None:
    run = await engine.run(W([code("def (:\n")]))
    assert "SyntaxError" in run.steps["code"].error


async def test_result_must_be_json(engine: Engine) -> None:
    run = await engine.run(W([code("result = object()")]))
    assert "not JSON-serializable" in run.steps["code"].error


async def test_code_cannot_reach_the_engine_process(engine: Engine, tmp_path) -> None:
    run = await engine.run(W([code("import os\nresult = os.getppid()")]))
    import os
    assert run.steps["code"].output["result"] != os.getpid()  # a different process tree
    assert run.steps["code"].output["result"] != 0


async def test_state_does_not_leak_between_steps(engine: Engine) -> None:
    run = await engine.run(W([
        {"id": "a", "type": "inline_code", "config": {"code": "import json\njson.x = 1\n"
                                                               "result = 'set'"}},
        {"id": "b", "type": "inline_code", "config": {"code": "import json\n"
                                                               "result = hasattr(json, 'x')"}}],
        [("a", "b")]))
    assert run.steps["b"].output["result"] is False


async def test_code_steps_run_in_parallel(engine: Engine) -> None:
    nodes = [{"id": f"c{i}", "type": "inline_code",
              "config": {"code": "import time\ntime.sleep(0.3)\nresult = 1"}} for i in range(2)]
    started = time.monotonic()
    run = await engine.run(W(nodes))
    assert run.status is RunStatus.COMPLETED
    assert time.monotonic() - started < 0.6 + 0.5


@pytest.mark.parametrize("src", ["import sys\nsys.exit(3)", "raise SystemExit"])
async def test_exit_ends_the_code_quietly(engine: Engine, src: str) -> None:
    run = await engine.run(W([code("result = 5\n" + src)]))
    assert run.steps["code"].output["result"] == 5


async def test_cancelled_code_step_replaces_its_worker(engine: Engine) -> None:
    workflow = W([code("while True:\n    pass", timeout_seconds=60)])
    run, _ = engine.start(workflow)
    task = asyncio.ensure_future(engine.execute(run.id))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    again = await engine.run(W([code("result = 'fresh'")]))
    assert again.steps["code"].output["result"] == "fresh"
