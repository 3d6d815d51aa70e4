"""The engine side of the inline_code sandbox: a small pool of warm worker processes.

Each worker is a fork server (``_sandbox_worker.py``) started with ``python -I``; a step
checks a worker out, sends one request and gets one answer, and the worker forks a fresh
child for it. A worker that stops answering (past the step's time limit plus a grace period)
is killed and replaced. Only POSIX systems have fork; elsewhere inline_code reports that.
The worker starts with an empty environment; each child confines itself (see
``_sandbox_worker`` and ``_sandbox_confine``), and an answer lists under ``not_enforced``
whatever protection this kernel could not give.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from flowdesk.model.errors import StepError

__all__ = ["SandboxPool", "SandboxResult"]

WORKER = Path(__file__).with_name("_sandbox_worker.py")
_GRACE_SECONDS = 5.0


def _memory_folder() -> str | None:
    """A RAM-backed folder of this user when there is one (making and removing a folder per
    step there costs ~10 µs instead of ~150 µs on a journaling disk); else the temp folder."""
    for candidate in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return None


class SandboxResult(dict[str, Any]):
    pass


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process, folder: str) -> None:
        self.proc = proc
        self.folder = folder  # the steps' private folders live in it; removed with the worker

    @classmethod
    async def spawn(cls) -> _Worker:
        folder = tempfile.mkdtemp(prefix="flowdesk-sandbox-", dir=_memory_folder())
        # a PyInstaller bundle has no python to run a file with: it runs itself in worker mode
        command = [sys.executable, "--sandbox-worker", folder] if getattr(sys, "frozen", False) \
            else [sys.executable, "-I", str(WORKER), folder]
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=1 << 30,
            env={}, cwd="/",  # nothing of ours (API keys, paths) reaches user code
            start_new_session=True,  # its own process group: killing it kills its children
        )
        return cls(proc, folder)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def kill(self) -> None:
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        await self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class SandboxPool:
    def __init__(self, size: int = 2) -> None:
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._spawned = 0
        self._available = asyncio.Condition()
        self._closed = False

    async def _acquire(self) -> _Worker:
        async with self._available:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._spawned -= 1
                if self._spawned < self.size:
                    self._spawned += 1
                    break
                await self._available.wait()
        try:
            return await _Worker.spawn()
        except BaseException:
            async with self._available:
                self._spawned -= 1
                self._available.notify()
            raise

    async def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            await worker.kill()
        async with self._available:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._spawned -= 1
            self._available.notify()

    async def run(self, code: str, scope: dict[str, Any], *, timeout: float,
                  memory_mb: int, allow_network: bool = False) -> SandboxResult:
        if os.name != "posix":
            raise StepError("inline_code needs a POSIX system (Linux or macOS)")
        try:
            request = json.dumps({"code": code, "scope": scope, "timeout": timeout,
                                  "memory_mb": memory_mb, "allow_network": allow_network},
                                 default=str)
        except (TypeError, ValueError) as exc:
            raise StepError(f"the code's input cannot be sent as JSON: {exc}") from None
        worker = await self._acquire()
        healthy = False
        try:
            assert worker.proc.stdin is not None and worker.proc.stdout is not None
            worker.proc.stdin.write(request.encode() + b"\n")
            await worker.proc.stdin.drain()
            async with asyncio.timeout(timeout + _GRACE_SECONDS):
                line = await worker.proc.stdout.readline()
            if not line:
                raise StepError("the code sandbox stopped unexpectedly")
            healthy = True
            return SandboxResult(json.loads(line))
        except TimeoutError:
            raise StepError(f"the code sandbox did not answer within {timeout:g} s") from None
        except (BrokenPipeError, ConnectionResetError):
            raise StepError("the code sandbox stopped unexpectedly") from None
        finally:
            # a cancelled step leaves a child running: replace the worker rather than wait
            await asyncio.shield(self._release(worker, healthy))

    async def aclose(self) -> None:
        self._closed = True
        async with self._available:
            idle, self._idle = self._idle, []
        for worker in idle:
            if worker.proc.stdin is not None:
                worker.proc.stdin.close()
            await worker.kill()
