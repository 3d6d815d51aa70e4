"""Seeds a database with N old finished runs (with steps and events), then runs a 500-step
chain in it; prints {"per_step_us", "seed_s"}. N=0 gives the baseline."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import chain

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from flowdesk.steps import default_registry
from flowdesk.store import open_store


def seed(path: Path, n: int) -> None:
    open_store(path).close()
    conn = sqlite3.connect(path)
    definition = json.dumps(chain(3))
    now = time.time() - 86400
    for start in range(0, n, 10_000):
        ids = [uuid.uuid4().hex for _ in range(min(10_000, n - start))]
        conn.executemany(
            "INSERT INTO runs (id, workflow_name, definition, status, input, created_at, "
            "started_at, finished_at, attempt) VALUES (?, 'old', ?, 'completed', '{}', ?, ?, "
            "?, 1)", [(i, definition, now, now, now + 1) for i in ids])
        conn.executemany(
            "INSERT INTO step_runs (run_id, step_id, status, output, attempts) "
            "VALUES (?, ?, 'completed', '1', 1)", [(i, f"s{k}") for i in ids for k in range(3)])
        conn.executemany(
            "INSERT INTO run_events (run_id, seq, type, step_id, ts, payload) "
            "VALUES (?, ?, 'step.completed', 's0', ?, '{}')",
            [(i, k, now) for i in ids for k in range(1, 6)])
        conn.commit()
    conn.close()


def main() -> None:
    if sys.argv[1] == "seed":  # run in its own process, so the measuring one starts clean
        seed(Path(sys.argv[2]), int(sys.argv[3]))
        return
    n = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.db"
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "seed", str(path), str(n)], check=True)
        os.sync()  # an old database is on disk already: don't measure the seeding's flush
        seeded = time.perf_counter() - t
        store = open_store(path)
        engine = Engine(store, default_registry())
        workflow = Workflow.model_validate(chain(500))

        async def go() -> float:
            run, _ = engine.start(workflow)
            start = time.perf_counter()
            await engine.execute(run.id)
            return time.perf_counter() - start

        elapsed = asyncio.run(go())
        asyncio.run(engine.aclose())
    print(json.dumps({"per_step_us": elapsed / 500 * 1e6, "seed_s": seeded}))


if __name__ == "__main__":
    main()
