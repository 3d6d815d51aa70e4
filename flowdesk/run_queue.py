"""The queue of runs a team's workers share (``flowdesk serve``).

A run accepted by a webhook, the HTTP API or a schedule is recorded as *queued*: pending and
owned by nobody. Every worker on the database runs a ``RunQueue``: while it has room (fewer
than ``max_runs`` runs of its own going), it claims the oldest queued runs —
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never wait for each other and never
take the same run — and executes them. A worker with room runs what it accepts itself (the
run is its own from the start, nothing is queued); a full one queues it and the others are
woken on a notification (PostgreSQL: the store's feed of queued runs, LISTEN/NOTIFY
on its own channel, so run progress does not wake them) or within ``poll_seconds``. So a
busy worker keeps accepting requests while an idle one takes the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from flowdesk.engine import Engine
from flowdesk.model.errors import StoreError

__all__ = ["DEFAULT_MAX_RUNS", "RunQueue"]

log = logging.getLogger(__name__)

DEFAULT_MAX_RUNS = 128


class RunQueue:
    def __init__(self, engine: Engine,
                 carry_on: Callable[[str], Coroutine[Any, Any, Any]],
                 spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]], *,
                 max_runs: int = DEFAULT_MAX_RUNS, poll_seconds: float = 0.5) -> None:
        self.engine = engine
        self.store: Any = engine.store
        self.carry_on = carry_on
        self.spawn = spawn
        self.max_runs = max(1, max_runs)
        self.poll_seconds = poll_seconds
        self.taken: list[str] = []  # runs this worker executes: its own and claimed ones
        self._mine: set[str] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[Any] | None = None
        self._feed: Any = None
        self._fd: int | None = None

    def start(self) -> None:
        self._loop_task = asyncio.ensure_future(self._run())
        try:
            self._feed = self.store.run_feed(queued=True)
            self._fd = self._feed.fileno() if self._feed.pushes else None
        except StoreError as exc:
            log.warning("queued runs are polled: %s", exc)
        if self._fd is not None:
            asyncio.get_running_loop().add_reader(self._fd, self._notified)

    async def stop(self) -> None:
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None
        if self._feed is not None:
            self._feed.close()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task

    def has_room(self) -> bool:
        return len(self._mine) < self.max_runs

    @property
    def running(self) -> int:
        """How many runs this worker executes now."""
        return len(self._mine)

    def run_here(self, run_id: str,
                 coro: Coroutine[Any, Any, Any] | None = None) -> None:
        """Execute a run this worker just recorded as its own (it had room); ``coro``: how
        (default ``carry_on(run_id)``)."""
        self._start(run_id, coro)

    def _start(self, run_id: str, coro: Coroutine[Any, Any, Any] | None = None) -> None:
        self._mine.add(run_id)
        self.taken.append(run_id)
        task = self.spawn(coro if coro is not None else self.carry_on(run_id))
        task.add_done_callback(functools.partial(self._done, run_id))

    def wake(self) -> None:
        """A run was queued (or a slot freed): look at the queue now."""
        self._wake.set()

    def _notified(self) -> None:
        if self._feed is not None and self._feed.changed():
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # woken, or a look every poll_seconds (not wait_for: on Python 3.11 a cancel
            # that meets its timeout can be lost, and stop() would wait forever)
            timer = loop.call_later(self.poll_seconds, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            self._wake.clear()
            try:
                self.take()
            except StoreError as exc:  # busy or gone: look again on the next wake
                log.warning("queued runs not taken: %s", exc)

    def take(self) -> list[str]:
        """Claim as many queued runs as there is room for and start them here."""
        room = self.max_runs - len(self._mine)
        if room <= 0:
            return []
        ids: list[str] = self.store.claim_queued(self.engine.owner, self.engine.lease_seconds,
                                                 room)
        for run_id in ids:
            self._start(run_id)
        return ids

    def _done(self, run_id: str, _task: asyncio.Task[Any]) -> None:
        was_full = not self.has_room()
        self._mine.discard(run_id)
        if was_full:  # room again: take the next queued run (with room, it was taken)
            self._wake.set()
