"""A real ``TriggerServer`` (a flowdesk worker) on its own asyncio loop in a thread, on any
database URL: several of them on one database are several workers of a team."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from flowdesk.engine import Engine
from flowdesk.steps import default_registry
from flowdesk.store import Store, open_store
from flowdesk.trigger_server import TriggerServer


class Worker:
    def __init__(self, url: str, tick_seconds: float = 3600, max_runs: int = 32) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store: Store = open_store(url)
        self.engine = Engine(self.store, default_registry(), poll_interval=0.05)
        self.service = TriggerServer(self.engine, port=0, tick_seconds=tick_seconds,
                                     max_runs=max_runs)
        self.call(self.service.start())
        self.base = f"http://127.0.0.1:{self.service.port}"

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.call(self.service.stop())
        self.call(self.engine.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.store.close()
