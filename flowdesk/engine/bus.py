"""A small synchronous publish/subscribe bus for run events.

The executor persists events first and publishes them after the commit; subscribers (the CLI
progress printer, the desktop RunController) are plain callables. A subscriber that raises is
reported and dropped from nothing: the other subscribers still get the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flowdesk.model.events import RunEvent

__all__ = ["EventBus", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[RunEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: RunEvent) -> None:
        for callback in tuple(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, event.type)
