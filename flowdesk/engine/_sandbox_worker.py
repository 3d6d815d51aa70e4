"""The inline_code sandbox worker: a tiny fork server, run as ``python -I <this file>``.

It imports only the standard library and never sees the engine's objects; the engine starts
it with an empty environment. For each request (one JSON line on stdin) it makes a fresh
private working folder and forks a child that sets its own memory (RLIMIT_AS), CPU and file
size limits, confines itself with the kernel (``_sandbox_confine``: Landlock, seccomp, no
capabilities), runs the user's code in a fresh namespace with stdout captured, and writes one
JSON result to a pipe. The server enforces the wall-clock limit (SIGKILL), removes the folder
and answers one JSON line on stdout. Each child is used for exactly one step, so no state
leaks from one step to the next. An action the sandbox refused ends the step with an error
that starts with ``sandbox:`` and names the action (from Python's audit events, which only
name it; the kernel is what refuses).
"""

from __future__ import annotations

import collections
import io
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

STDOUT_LIMIT = 1024 * 1024
RESULT_LIMIT = 256 * 1024 * 1024
_FILE_SIZE_LIMIT = 256 * 1024 * 1024


def _load_confinement() -> Any:
    if getattr(sys, "frozen", False):
        from flowdesk.engine import _sandbox_confine as module
    else:  # run by path with -I: load the sibling file the same way, not the flowdesk package
        import importlib.util

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox_confine.py")
        spec = importlib.util.spec_from_file_location("_flowdesk_sandbox_confine", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    confinement = module.Confinement()
    confinement.prepare()
    return confinement


# -- naming what was refused ----------------------------------------------------------------
_PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system",
                   "os.exec", "subprocess.Popen", "pty.spawn"}
_FS_EVENTS = {"open", "os.listdir", "os.scandir", "os.mkdir", "os.remove", "os.rmdir",
              "os.rename", "os.symlink", "os.link", "os.chmod", "os.chown", "os.truncate",
              "os.utime", "os.chdir"}
_NET_EVENTS = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
               "socket.sendto", "urllib.Request"}
_recent: collections.deque[tuple[str, tuple[Any, ...]]] = collections.deque(maxlen=32)
_network_allowed = False  # set in the child: without network, failed name lookups are ours


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in _FS_EVENTS or event in _PROCESS_EVENTS or event in _NET_EVENTS \
            or event in ("ctypes.dlopen", "sqlite3.connect"):
        _recent.append((event, args))


def _is_write(flags: Any, mode: Any) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    if isinstance(flags, int):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
    return False


def _action(event: str, args: tuple[Any, ...]) -> str:
    first = os.fsdecode(args[0]) if args and isinstance(args[0], (str, bytes)) else ""
    if event == "open":
        verb = "writing" if _is_write(args[2] if len(args) > 2 else None,
                                      args[1] if len(args) > 1 else None) else "reading"
        return f"{verb} {first}"
    if event == "sqlite3.connect":
        return f"opening the database {first}"
    if event in ("os.listdir", "os.scandir"):
        return f"listing {first or '.'}"
    if event in _FS_EVENTS:
        return f"{event.removeprefix('os.')} {first}".strip()
    if event in _PROCESS_EVENTS:
        what = args[1] if event == "subprocess.Popen" and len(args) > 1 else first
        return f"starting a process ({event}{': ' + str(what) if what else ''})"
    if event == "socket.connect":
        return f"connecting to {_address(args[1] if len(args) > 1 else None)}"
    if event == "socket.bind":
        return f"listening on {_address(args[1] if len(args) > 1 else None)}"
    target = next((_action(e, a) for e, a in reversed(_recent)
                   if e in ("urllib.Request", "socket.connect") and e != event), None)
    if event == "urllib.Request":
        return f"opening {first}"
    return f"network access ({target})" if target else "network access (opening a socket)"


def _address(value: Any) -> str:
    if isinstance(value, tuple) and len(value) >= 2:
        return f"{value[0]}:{value[1]}"
    return str(value)


def _refusal(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and item.errno in (1, 13, 18):  # EPERM EACCES EXDEV
            return item
        connects = [a for e, a in _recent if e == "sqlite3.connect" and a]
        if type(item).__name__ == "OperationalError" and "unable to open" in str(item) \
                and connects:
            return OSError(13, str(item), os.fsdecode(connects[-1][0]))
        if isinstance(item, OSError) and type(item).__name__ == "gaierror" \
                and not _network_allowed:
            return item  # the resolver's files are out of reach without network
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__]
    return None


def _sandbox_message(exc: BaseException) -> str | None:
    refused = _refusal(exc)
    if refused is None:
        return None
    names = {os.fsdecode(n) for n in (refused.filename, refused.filename2)
             if isinstance(n, (str, bytes))}
    if type(refused).__name__ == "gaierror":
        names = set()
        _recent.append(("socket.__new__", ()))
    chosen = None
    for event, args in reversed(_recent):
        if not names or (args and isinstance(args[0], (str, bytes))
                         and os.fsdecode(args[0]) in names):
            chosen = (event, args)
            break
    if chosen is None and names:
        action = f"access to {sorted(names)[0]}"
    elif chosen is None:
        return None
    else:
        action = _action(*chosen)
    return f"sandbox: {action} is not allowed ({_error_text(exc)})"


def _error_text(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<code>"]
    where = f" (line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# -- the child -------------------------------------------------------------------------------
def _child(rfd: int, wfd: int, workdir: str, confinement: Any, allow_network: bool) -> None:
    """Confine this process, then wait for one request on ``rfd`` and answer on ``wfd``."""
    # let go of the server's stdin/stdout: only the two pipes lead back
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ.clear()
    os.chdir(workdir)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails instead of killing
    global _network_allowed
    _network_allowed = allow_network
    try:
        confinement.apply(workdir, allow_network)
    except Exception as exc:  # never run unconfined code when confinement was promised
        _write(wfd, json.dumps({"ok": False, "kind": "sandbox",
                                "error": f"sandbox: could not confine the code: {exc}"}))
        os._exit(0)
    low, high = sorted((rfd, wfd))
    for start, end in ((3, low), (low + 1, high), (high + 1, 1 << 16)):
        if start < end:  # the worker's descriptors stay behind
            os.closerange(start, end)
    chunks = []
    while chunk := os.read(rfd, 1 << 20):
        chunks.append(chunk)
    os.close(rfd)
    request = json.loads(b"".join(chunks))

    limit = int(request["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(request["timeout"]) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FILE_SIZE_LIMIT, _FILE_SIZE_LIMIT))
    sys.addaudithook(_audit)
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
        blocked = _sandbox_message(exc)
        answer = json.dumps({"ok": False, "kind": "sandbox" if blocked else "code",
                             "error": blocked or _error_text(exc),
                             "stdout": buffer.getvalue()[:STDOUT_LIMIT]})
    _write(wfd, answer)
    os.close(wfd)  # the end of the answer now, not once the whole process is torn down
    os._exit(0)


def _write(fd: int, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig
        if sig == signal.SIGXCPU:
            return "it used more CPU time than allowed"
        return f"it was killed by signal {name}"
    return f"it exited with code {os.WEXITSTATUS(status)}"


# -- the server ------------------------------------------------------------------------------
class _Ready:
    """A child forked and confined ahead of its request, with its own empty folder. The
    server forks the next one right after answering, while the engine records the answer,
    and reaps a child after its answer has gone (its exit takes ~1 ms): on a machine with
    two cores neither the fork, the confinement nor the exit is on the step's path."""

    def __init__(self, confinement: Any, allow_network: bool, folder: str | None) -> None:
        self.allow_network = allow_network
        self.timeout = self.deadline = 0.0
        self.reaped = False
        self.workdir = tempfile.mkdtemp(prefix="code-", dir=folder)
        req_r, self.req_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.req_w)
            os.close(self.res_r)
            try:
                _child(req_r, res_w, self.workdir, confinement, allow_network)
            finally:
                os._exit(70)
        os.close(req_r)
        os.close(res_w)

    def discard(self) -> None:
        for fd in (self.req_w, self.res_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def finish(self, block: bool = False) -> bool:
        """Reap the child once it has exited (its answer comes first) and remove its folder;
        False while it is still exiting."""
        if not self.reaped:
            try:
                pid, _ = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                pid = self.pid
            if pid == 0:
                return False
            self.reaped = True
        try:
            os.rmdir(self.workdir)  # the usual case: the code left no files
        except OSError:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return True

    def send(self, request: dict[str, Any]) -> None:
        self.timeout = float(request["timeout"])
        self.deadline = time.monotonic() + self.timeout
        try:
            _write(self.req_w, json.dumps(request, default=str))
        except BrokenPipeError:
            pass  # the child is gone; its status says why
        os.close(self.req_w)

    def collect(self) -> str:
        timeout, deadline = self.timeout, self.deadline
        chunks = []
        size = 0
        timed_out = too_big = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                os.kill(self.pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([self.res_r], [], [], remaining)
            if ready:
                chunk = os.read(self.res_r, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > RESULT_LIMIT:
                    too_big = True
                    os.kill(self.pid, signal.SIGKILL)
                    break
        os.close(self.res_r)
        if timed_out or too_big or not chunks:
            _, status = os.waitpid(self.pid, 0)
            self.reaped = True
        if timed_out:
            return json.dumps({"ok": False, "kind": "timeout",
                               "error": f"the code ran longer than {timeout:g} s and was "
                                        f"stopped"})
        if too_big:
            return json.dumps({"ok": False, "kind": "result",
                               "error": f"the result is larger than {RESULT_LIMIT >> 20} MB"})
        if not chunks:
            return json.dumps({"ok": False, "kind": "crash",
                               "error": f"the code's process ended without a result: "
                                        f"{_describe_status(status)}"})
        # the code could have written to this pipe itself: pass on one JSON object on one
        # line, never its bytes, so it cannot forge the answer to another step
        try:
            answer = json.loads(b"".join(chunks))
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            return json.dumps({"ok": False, "kind": "crash",
                               "error": "the code's process wrote something that is not a "
                                        "result"})
        return json.dumps(answer)


def _with_gaps(answer: str, confinement: Any) -> str:
    if not confinement.not_enforced:
        return answer
    parsed = json.loads(answer)
    parsed["not_enforced"] = confinement.not_enforced
    return json.dumps(parsed)


def _requests(idle: Any, busy: Any) -> Any:
    """The request lines from stdin; while ``busy()``, ``idle()`` is called every few ms
    until the next request comes."""
    buffer = bytearray()
    scanned = 0
    while True:
        end = buffer.find(b"\n", scanned)
        if end >= 0:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            scanned = 0
            yield line
            continue
        scanned = len(buffer)
        if busy() and not select.select([0], [], [], 0.002)[0]:
            idle()
            continue
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return
        buffer += chunk


def main(argv: list[str] | None = None) -> None:
    """``argv[-1]``, when it is a folder, is where the steps' private folders are made (the
    engine removes it with the worker, even one it had to kill)."""
    argv = sys.argv if argv is None else argv
    folder = argv[-1] if len(argv) > 1 and os.path.isdir(argv[-1]) else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides when we stop
    confinement = _load_confinement()
    out = sys.stdout.buffer
    ready = _Ready(confinement, False, folder)
    exiting: list[_Ready] = []  # answered children not reaped yet

    def reap() -> None:
        exiting[:] = [child for child in exiting if not child.finish()]

    try:
        for line in _requests(reap, lambda: bool(exiting)):
            if not line.strip():
                continue
            request = json.loads(line)
            wanted = bool(request.get("allow_network"))
            if ready.allow_network != wanted:
                ready.discard()
                ready = _Ready(confinement, wanted, folder)
            current = ready
            current.send(request)
            answer = current.collect()
            out.write(_with_gaps(answer, confinement).encode() + b"\n")
            out.flush()
            # while the engine records the answer: the next child, then the clean-up
            ready = _Ready(confinement, wanted, folder)
            exiting.append(current)
            reap()
    finally:
        ready.discard()
        for child in exiting:
            child.finish(block=True)


if __name__ == "__main__":
    main()
