"""The inline_code sandbox worker: a tiny fork server, run as ``python -I <this file>``.

It imports only the standard library and never sees the engine's objects. For each request
(one JSON line on stdin) it forks a child that sets its own memory (RLIMIT_AS) and CPU limits,
runs the user's code in a fresh namespace with stdout captured, and writes one JSON result to
a pipe. The server enforces the wall-clock limit (SIGKILL) and answers one JSON line on
stdout. Each child is used for exactly one step, so no state leaks from one step to the next.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import sys
import time
import traceback
from typing import Any

STDOUT_LIMIT = 1024 * 1024


def _error_text(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<code>"]
    where = f" (line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _child(request: dict[str, Any], wfd: int) -> None:
    import resource

    # let go of the server's stdin/stdout: only the result pipe leads back
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)

    limit = int(request["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(request["timeout"]) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    buffer = io.StringIO()
    sys.stdout = sys.stderr = buffer
    namespace = {"__name__": "__flowdesk_code__", "result": None}
    namespace.update(request.get("scope") or {})
    try:
        try:
            exec(compile(request["code"], "<code>", "exec"), namespace)
        except SystemExit:
            pass
        stdout = buffer.getvalue()[:STDOUT_LIMIT]
        try:
            answer = json.dumps({"ok": True, "result": namespace.get("result"), "stdout": stdout})
        except (TypeError, ValueError) as exc:
            answer = json.dumps({"ok": False, "kind": "result",
                                 "error": f"result is not JSON-serializable: {exc}",
                                 "stdout": stdout})
    except MemoryError:
        namespace.clear()
        answer = json.dumps({"ok": False, "kind": "memory",
                             "error": f"MemoryError: the code needed more than the "
                                      f"{request['memory_mb']} MB memory limit",
                             "stdout": buffer.getvalue()[:STDOUT_LIMIT]})
    except BaseException as exc:  # the user's code failed: report it, whatever it was
        answer = json.dumps({"ok": False, "kind": "code", "error": _error_text(exc),
                             "stdout": buffer.getvalue()[:STDOUT_LIMIT]})
    data = answer.encode()
    while data:
        written = os.write(wfd, data)
        data = data[written:]
    os._exit(0)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig
        if sig == signal.SIGXCPU:
            return "it used more CPU time than allowed"
        return f"it was killed by signal {name}"
    return f"it exited with code {os.WEXITSTATUS(status)}"


def _serve_one(request: dict[str, Any]) -> str:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            _child(request, wfd)
        finally:
            os._exit(70)
    os.close(wfd)
    timeout = float(request["timeout"])
    deadline = time.monotonic() + timeout
    chunks = []
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([rfd], [], [], remaining)
        if ready:
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(rfd)
    if timed_out:
        return json.dumps({"ok": False, "kind": "timeout",
                           "error": f"the code ran longer than {timeout:g} s and was stopped"})
    if not chunks:
        return json.dumps({"ok": False, "kind": "crash",
                           "error": f"the code's process ended without a result: "
                                    f"{_describe_status(status)}"})
    return b"".join(chunks).decode()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides when we stop
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        answer = _serve_one(json.loads(line))
        out.write(answer.encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
