"""Runs in a child process: execute one generated workflow against a fresh SQLite file and
print {"per_step_us", "total_ms", "maxrss_mb"}."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import chain, fan_out

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from flowdesk.steps import default_registry
from flowdesk.store import open_store


def main() -> None:
    shape, n = sys.argv[1], int(sys.argv[2])
    db = sys.argv[3] if len(sys.argv) > 3 else None
    definition = chain(n) if shape == "chain" else fan_out(n) if shape == "fan" else \
        chain(n, "inline_code", {"code": "result = 1"})
    workflow = Workflow.model_validate(definition)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(db or Path(tmp) / "b.db")
        engine = Engine(store, default_registry())

        async def go() -> float:
            if shape == "code":  # warm the sandbox pool first, as a running app has it
                await engine.run(Workflow.model_validate(chain(2, "inline_code",
                                                               {"code": "result = 1"})))
            run, _ = engine.start(workflow)
            start = time.perf_counter()
            done = await engine.execute(run.id)
            elapsed = time.perf_counter() - start
            assert done.status.value == "completed", done.error
            await engine.aclose()
            return elapsed

        elapsed = asyncio.run(go())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = len(workflow.nodes)
    print(json.dumps({"per_step_us": elapsed / steps * 1e6, "total_ms": elapsed * 1000,
                      "maxrss_mb": rss}))


if __name__ == "__main__":
    main()
