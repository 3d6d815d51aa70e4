"""The floor of a persisted asyncio engine on this machine: a task per step plus one SQLite
INSERT+COMMIT (WAL, synchronous=NORMAL); and a bare task per step. Prints µs per step."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


async def noop() -> int:
    return 1


def main() -> None:
    n = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE s (run TEXT, step TEXT, status TEXT, ts REAL)")

        async def persisted() -> float:
            start = time.perf_counter()
            for i in range(n):
                await asyncio.get_running_loop().create_task(noop())
                conn.execute("BEGIN")
                conn.execute("INSERT INTO s VALUES (?, ?, ?, ?)", ("r", f"s{i}", "done",
                                                                    time.time()))
                conn.execute("COMMIT")
            return (time.perf_counter() - start) / n * 1e6

        async def bare() -> float:
            start = time.perf_counter()
            for _ in range(n):
                await asyncio.get_running_loop().create_task(noop())
            return (time.perf_counter() - start) / n * 1e6

        floor = asyncio.run(persisted())
        task = asyncio.run(bare())
    print(json.dumps({"floor_us": floor, "task_us": task}))


if __name__ == "__main__":
    main()
