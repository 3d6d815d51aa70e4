"""Webhooks under load: `python benchmarks/webhooks.py [--requests N] [--concurrency C]`.

Measures, in one run on this machine, each server alone:
- **floor**: what accept-and-insert costs at the bottom — asyncio + h11 + SQLite in WAL mode
  with ``synchronous=FULL``, requests arriving together sharing one transaction and one sync
  (group commit), then all answered 202; HTTP/1.1 keep-alive. Nothing else.
- **flowdesk serve**: the same POSTs to a two-step workflow (webhook trigger → transform that
  sets a field), answered 202 once the run is stored and synced (group commit); then how
  long until every accepted run has completed, and how many requests shared a group.

The load client is plain asyncio (a connection per worker, reused while the server keeps it
open): httpx as a client costs ≈5 ms of CPU per request here and would measure itself. The
client's own CPU, the server's CPU per request (from /proc/PID/stat), its peak RSS, the
connections opened and the syncs per request (when `strace` is installed and --strace given)
are reported beside the rates. Nothing here asserts anything: it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
BODY = json.dumps({"order": "A-1", "amount": 12.5}).encode()


# -- the load client ------------------------------------------------------------------------
async def load(port: int, path: str, total: int, concurrency: int,
               body: bytes = BODY) -> dict[str, Any]:
    """POST ``total`` requests over ``concurrency`` connections; latencies in ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connections = 0
    left = total
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def worker() -> None:
        nonlocal connections, left
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while left > 0:
            left -= 1
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                connections += 1
            assert reader is not None
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    cpu0 = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    latencies.sort()
    return {
        "requests": total, "seconds": elapsed, "per_s": total / elapsed,
        "accepted": statuses.get(202, 0), "statuses": statuses,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "connections": connections, "client_cpu_ms_per_request": cpu * 1000 / total,
    }


# -- the floor server -----------------------------------------------------------------------
FLOOR_SERVER = r'''
import asyncio, json, sqlite3, sys, uuid
import h11

db = sqlite3.connect(sys.argv[1], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, input TEXT, status TEXT)")
pending = []
wake = None

async def committer():
    global wake
    while True:
        await wake.wait()
        wake.clear()
        batch = pending[:]
        del pending[:]
        db.execute("BEGIN")
        db.executemany("INSERT INTO runs VALUES (?, ?, 'pending')",
                       [(rid, body) for rid, body, _ in batch])
        db.execute("COMMIT")
        for rid, _, fut in batch:
            fut.set_result(rid)

async def handle(reader, writer):
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data:
                    break
                continue
            if isinstance(event, h11.Request):
                body = b""
                while True:
                    e = conn.next_event()
                    if e is h11.NEED_DATA:
                        conn.receive_data(await reader.read(65536))
                        continue
                    if isinstance(e, h11.Data):
                        body += e.data
                    if isinstance(e, h11.EndOfMessage):
                        break
                fut = asyncio.get_running_loop().create_future()
                pending.append((uuid.uuid4().hex, body.decode(), fut))
                wake.set()
                rid = await fut
                payload = json.dumps({"run_id": rid}).encode()
                writer.write(conn.send(h11.Response(status_code=202, headers=[
                    ("content-type", "application/json"),
                    ("content-length", str(len(payload)))])))
                writer.write(conn.send(h11.Data(data=payload)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                break
    except (ConnectionError, h11.RemoteProtocolError):
        pass
    writer.close()

async def main():
    global wake
    wake = asyncio.Event()
    asyncio.ensure_future(committer())
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[2]))
    print("ready", flush=True)
    await server.serve_forever()

asyncio.run(main())
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")


def groups(port: int) -> int | None:
    """How many webhook groups flowdesk serve has committed (its /health says), if it does."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    value = json.loads(data.split(b"\r\n\r\n", 1)[1]).get("webhook_groups")
    return None if value is None else int(value)


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(cmd: list[str], port: int, path: str, requests: int, concurrency: int,
            env: dict[str, str], completed: Any = None, strace: bool = False) -> dict[str, Any]:
    """Start a server, warm it, load it, and (for flowdesk) wait for the runs to complete."""
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    tracer: subprocess.Popen[bytes] | None = None
    try:
        wait_ready(port, proc)
        warm = asyncio.run(load(port, path, 100, min(concurrency, 10)))  # warm-up
        warm_done = 0
        if completed is not None:  # the warm-up's runs finish before the measured load
            deadline = time.monotonic() + 120
            while completed() < warm["accepted"] and time.monotonic() < deadline:
                time.sleep(0.02)
            warm_done = completed()
        if strace:
            tracer = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync",
                                       "-p", str(proc.pid)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
            time.sleep(0.5)  # strace attaches to every thread before the load starts
        groups0 = groups(port) if completed is not None else None
        cpu0 = cpu_ms(proc.pid)
        start = time.perf_counter()
        result = asyncio.run(load(port, path, requests, concurrency))
        result["server_cpu_ms_per_request"] = (cpu_ms(proc.pid) - cpu0) / requests
        if groups0 is not None:
            made = (groups(port) or 0) - groups0
            if made:
                result["requests_per_group"] = result["accepted"] / made
        if completed is not None:
            target = warm_done + result["accepted"]
            deadline = time.monotonic() + 600
            while completed() < target and time.monotonic() < deadline:
                time.sleep(0.02)
            done = completed() - warm_done
            result["completed"] = done
            result["completed_per_s"] = done / (time.perf_counter() - start)
        result["peak_rss_mb"] = peak_rss_mb(proc.pid)
        if tracer is not None:
            tracer.terminate()
            _, err = tracer.communicate(timeout=10)
            syncs = sum(int(line.split()[3]) for line in err.decode().splitlines()
                        if line.strip().endswith(("fsync", "fdatasync")))
            result["syncs_per_request"] = syncs / requests
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


WORKFLOW = {
    "name": "Webhook bench",
    "nodes": [
        {"id": "hook", "type": "webhook", "data": {"config": {"path": "bench"}}},
        {"id": "mark", "type": "transform",
         "data": {"config": {"output": {"order": "{{ steps.hook.output.body.order }}",
                                        "seen": True}}}},
    ],
    "edges": [{"id": "e1", "source": "hook", "target": "mark"}],
}


def bench_floor(tmp: Path, requests: int, concurrency: int, strace: bool) -> dict[str, Any]:
    port = free_port()
    script = tmp / "floor_server.py"
    script.write_text(FLOOR_SERVER)
    db = tmp / f"floor-{port}.db"
    return measure([PY, str(script), str(db), str(port)], port, "/hooks/bench", requests,
                   concurrency, {}, strace=strace)


def bench_flowdesk(tmp: Path, requests: int, concurrency: int, strace: bool) -> dict[str, Any]:
    port = free_port()
    db = tmp / f"flowdesk-{port}.db"
    env = {"FLOWDESK_DB": str(db), "FLOWDESK_HOME": str(tmp / "home")}
    wf = tmp / "bench.json"
    wf.write_text(json.dumps(WORKFLOW))
    subprocess.run([PY, "-m", "flowdesk", "import", str(wf)], env={**os.environ, **env},
                   check=True, capture_output=True)

    def completed() -> int:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
            return int(con.execute(
                "SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()[0])

    return measure([PY, "-m", "flowdesk", "serve", "--port", str(port)], port, "/hooks/bench",
                   requests, concurrency, env, completed=completed, strace=strace)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="repetitions, interleaved")
    parser.add_argument("--strace", action="store_true", help="count syncs per request")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {"floor": [], "flowdesk": []}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for _ in range(args.runs):
            results["floor"].append(bench_floor(tmp, args.requests, args.concurrency,
                                                args.strace))
            results["flowdesk"].append(bench_flowdesk(tmp, args.requests, args.concurrency,
                                                      args.strace))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(summary(results, args.requests, args.concurrency))
    return 0


def summary(results: dict[str, list[dict[str, Any]]], requests: int, concurrency: int) -> str:
    def med(name: str, key: str) -> float:
        values = [r[key] for r in results[name] if key in r]
        return statistics.median(values) if values else float("nan")

    floor = med("floor", "per_s")
    lines = [f"{requests:,} POSTs at concurrency {concurrency}, median of "
             f"{len(results['flowdesk'])} interleaved runs",
             "| server | accepted/s | × floor | completed/s | p50 / p99 ms | connections | "
             "server CPU ms/req | peak RSS MB | syncs/req |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in ("floor", "flowdesk"):
        rates = [r["per_s"] for r in results[name]]
        lines.append(
            f"| {name} | {med(name, 'per_s'):,.0f} ({min(rates):,.0f}–{max(rates):,.0f}) | "
            f"{med(name, 'per_s') / floor:.2f} | "
            f"{med(name, 'completed_per_s'):,.0f} | "
            f"{med(name, 'p50_ms'):.1f} / {med(name, 'p99_ms'):.1f} | "
            f"{med(name, 'connections'):.0f} | {med(name, 'server_cpu_ms_per_request'):.2f} | "
            f"{med(name, 'peak_rss_mb'):.0f} | {med(name, 'syncs_per_request'):.3f} |")
    bad = [r for r in results["flowdesk"] if r.get("completed") != r["accepted"]]
    lines.append("every accepted request one completed run: " + (
        "yes" if not bad else f"NO ({[(r['accepted'], r.get('completed')) for r in bad]})"))
    lines.append(f"client CPU per request: {med('flowdesk', 'client_cpu_ms_per_request'):.3f} ms")
    accepted, completed = med("flowdesk", "per_s"), med("flowdesk", "completed_per_s")
    targets = [
        ("≥ 1,000 accepted requests/s", accepted >= 1000, f"{accepted:,.0f}/s"),
        ("completed runs keep pace (≥ 0.9 × accepted)", completed >= 0.9 * accepted,
         f"{completed / accepted:.2f} ×"),
        ("p99 < 100 ms", med("flowdesk", "p99_ms") < 100, f"{med('flowdesk', 'p99_ms'):.0f} ms"),
        ("connections opened ≤ 2 × concurrency",
         med("flowdesk", "connections") <= 2 * concurrency,
         f"{med('flowdesk', 'connections'):.0f}"),
        ("within 2× of the floor", accepted * 2 >= floor, f"{floor / accepted:.1f}× slower"),
        ("every accepted request one completed run", not bad, "yes" if not bad else "no"),
    ]
    lines.append("targets (the webhook issue):")
    lines += [f"  {'met    ' if ok else 'NOT MET'}  {what}: {figure}"
              for what, ok, figure in targets]
    per_group = med("flowdesk", "requests_per_group")
    if per_group == per_group:  # not NaN: the server reports its groups
        lines.append(f"flowdesk accepted requests per group (one transaction, one sync): "
                     f"{per_group:.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
