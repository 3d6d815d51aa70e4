"""Team mode under load: `python benchmarks/team.py [--requests N] [--concurrency C]`.

Pushes webhooks through 1, 2 and 4 `flowdesk serve` workers sharing one PostgreSQL database
(a throw-away cluster, as the tests start: `tests/helpers/postgres.py`), and through 1 worker
on a SQLite file, and reports accepted requests/s, completed runs/s (from the first POST
until every accepted run has completed, read from the database) and each figure's ratio to
one PostgreSQL worker. The client spreads its connections over the workers (a load balancer's
round robin) with the plain asyncio keep-alive client of `benchmarks/webhooks.py`; the
workers' CPU per request is read from /proc. Each configuration gets a fresh database;
repetitions are interleaved. Nothing is asserted: it measures.

On a machine with 2 cores, the client, PostgreSQL and the workers share them: more workers
than cores cannot add throughput there, and the ratios say how much of it is lost or kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sqlalchemy as sa  # noqa: E402
from webhooks import WORKFLOW, cpu_ms, free_port, load, wait_ready  # noqa: E402

from tests.helpers.postgres import PostgresCluster, available  # noqa: E402

PY = sys.executable


async def spread(ports: list[int], total: int, concurrency: int) -> dict[str, Any]:
    """``total`` POSTs over ``concurrency`` connections, shared out over the workers."""
    n = len(ports)
    shares = [load(port, "/hooks/bench", total // n + (i < total % n),
                   max(1, concurrency // n + (i < concurrency % n)))
              for i, port in enumerate(ports)]
    start = time.perf_counter()
    parts = await asyncio.gather(*shares)
    elapsed = time.perf_counter() - start
    accepted = sum(p["accepted"] for p in parts)
    return {"requests": total, "accepted": accepted, "per_s": total / elapsed,
            "p99_ms": max(p["p99_ms"] for p in parts),
            "client_cpu_ms_per_request": sum(p["client_cpu_ms_per_request"] * p["requests"]
                                             for p in parts) / total}


def completed_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM runs WHERE status = 'completed'")).scalar() or 0)
    finally:
        engine.dispose()


def bench(url: str, workers: int, requests: int, concurrency: int, home: Path,
          python: str = PY) -> dict[str, Any]:
    env = {**os.environ, "FLOWDESK_HOME": str(home)}
    env.pop("FLOWDESK_DB", None)
    wf = home / "bench.json"
    wf.parent.mkdir(parents=True, exist_ok=True)
    wf.write_text(json.dumps(WORKFLOW))
    subprocess.run([python, "-m", "flowdesk", "--db", url, "import", str(wf)], env=env,
                   check=True, capture_output=True)
    ports = [free_port() for _ in range(workers)]
    procs = [subprocess.Popen([python, "-m", "flowdesk", "--db", url, "serve", "--port", str(p)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_ready(port, proc, timeout=60)
        warm = asyncio.run(spread(ports, 100, min(concurrency, 10)))
        deadline = time.monotonic() + 120
        while completed_count(url) < warm["accepted"] and time.monotonic() < deadline:
            time.sleep(0.05)
        before = completed_count(url)
        cpu0 = sum(cpu_ms(p.pid) for p in procs)
        start = time.perf_counter()
        result = asyncio.run(spread(ports, requests, concurrency))
        deadline = time.monotonic() + 600
        while completed_count(url) - before < result["accepted"] and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        done = completed_count(url) - before
        result["completed"] = done
        result["completed_per_s"] = done / (time.perf_counter() - start)
        result["workers_cpu_ms_per_request"] = (sum(cpu_ms(p.pid) for p in procs)
                                                - cpu0) / requests
        return result
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--runs", type=int, default=2, help="repetitions, interleaved")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--python", default=PY,
                        help="the interpreter the workers run (e.g. another checkout's)")
    args = parser.parse_args()
    reason = available()
    if reason is not None:
        print(f"cannot start PostgreSQL here: {reason}", file=sys.stderr)
        return 2
    counts = [int(n) for n in args.workers.split(",")]
    configs = [("postgresql", n) for n in counts] + [("sqlite", 1)]
    results: dict[str, list[dict[str, Any]]] = {f"{kind} ×{n}": [] for kind, n in configs}
    cluster = PostgresCluster().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            for run in range(args.runs):
                for kind, n in configs:
                    url = cluster.new_database("bench") if kind == "postgresql" else \
                        f"sqlite:///{tmp / f'bench-{run}.db'}"
                    results[f"{kind} ×{n}"].append(
                        bench(url, n, args.requests, args.concurrency, tmp / "home",
                              args.python))
                    print(f"  {kind} ×{n}: {results[f'{kind} ×{n}'][-1]['completed_per_s']:.0f}"
                          " completed/s", file=sys.stderr, flush=True)
    finally:
        cluster.stop()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(summary(results, args.requests, args.concurrency, f"postgresql ×{counts[0]}"))
    return 0


def summary(results: dict[str, list[dict[str, Any]]], requests: int, concurrency: int,
            base: str) -> str:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    lines = [f"{requests:,} webhook POSTs at concurrency {concurrency} spread over the "
             f"workers, median of {len(results[base])} interleaved runs",
             "| database × workers | completed runs/s (min–max) | × one PG worker | "
             "accepted/s | × one PG worker | p99 ms | workers' CPU ms/req |",
             "|---|---|---|---|---|---|---|"]
    for name, runs in results.items():
        rates = [r["completed_per_s"] for r in runs]
        done, accepted = med(name, "completed_per_s"), med(name, "per_s")
        lines.append(
            f"| {name} | {done:,.0f} ({min(rates):,.0f}–{max(rates):,.0f}) | "
            f"{done / med(base, 'completed_per_s'):.2f} | "
            f"{accepted:,.0f} | {accepted / med(base, 'per_s'):.2f} | "
            f"{med(name, 'p99_ms'):.0f} | {med(name, 'workers_cpu_ms_per_request'):.2f} |")
    bad = [(name, r["accepted"], r["completed"]) for name, runs in results.items()
           for r in runs if r["completed"] != r["accepted"] or r["accepted"] != requests]
    lines.append("every request accepted and completed once: " + (
        "yes" if not bad else f"NO {bad}"))
    client = statistics.median(r["client_cpu_ms_per_request"]
                               for runs in results.values() for r in runs)
    lines.append(f"client CPU per request: {client:.3f} ms; cores: {os.cpu_count()}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
