"""The last writes of runs that end together, committed together: ``FinalWrites``.

Contract: ``await final_writes.commit(run)`` takes what ``run`` has buffered (its last tick:
the end status, the steps' last changes, their events, giving up the claim) and commits it
in one transaction with the last writes of every other run that ended in the same turn of
the event loop (``store.write_many``); then each run publishes its own events, in order,
and each ``commit`` returns. Nothing is published before its commit; when the transaction
fails, every member's ``commit`` raises that error (and none of them was written).

Why: a run's last write costs a transaction (and, on SQLite, a copy of every page it touches
into the WAL); runs ending together touch the same pages, so one transaction for all of them
costs little more than one for one. A run alone is written one loop turn later, no slower.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from flowdesk.engine.persistence import RunRecords
from flowdesk.model.events import RunEvent

__all__ = ["FinalWrites", "Flushable", "Tick"]

Tick = tuple[str, dict[str, Any], dict[str, dict[str, Any]], list[RunEvent]]


class Flushable(Protocol):
    def take_writes(self) -> Tick | None: ...

    def publish(self, events: list[RunEvent]) -> None: ...


class FinalWrites:
    def __init__(self, store: RunRecords) -> None:
        self.store = store
        self._pending: list[tuple[Flushable, asyncio.Future[None]]] = []
        self.transactions = 0  # how many transactions carried the last writes (tests)

    async def commit(self, run: Flushable) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._write)  # after the runs that end in this same turn
        self._pending.append((run, done))
        await done

    def _write(self) -> None:
        batch, self._pending = self._pending, []
        ticks: list[Tick] = []
        members: list[tuple[Flushable, asyncio.Future[None], list[RunEvent]]] = []
        for run, done in batch:
            tick = run.take_writes()
            events = tick[3] if tick is not None else []
            if tick is not None:
                ticks.append(tick)
            members.append((run, done, events))
        try:
            if ticks:
                self.store.write_many(ticks)
                self.transactions += 1
        except Exception as exc:  # every member learns that its write failed
            for _run, done, _events in members:
                if not done.done():
                    done.set_exception(exc)
            return
        for run, done, events in members:
            run.publish(events)
            if not done.done():
                done.set_result(None)
