"""The change feed: runs another process creates or writes are named by ``changed()``;
on PostgreSQL they are pushed (NOTIFY in the writing transaction), on SQLite polled."""

from __future__ import annotations

import select
import time

from flowdesk.model import Workflow
from flowdesk.model.events import EventType, RunEvent
from flowdesk.store import Store, open_store


def _changed_soon(feed, want: set[str]) -> set[str]:  # type: ignore[no-untyped-def]
    got: set[str] = set()
    deadline = time.monotonic() + 10
    while not want <= got:
        assert time.monotonic() < deadline, f"only {got} of {want}"
        fd = feed.fileno()
        if fd is not None:
            select.select([fd], [], [], 0.5)  # PostgreSQL: wait for the push
        else:
            time.sleep(0.02)
        got |= feed.changed()
    return got


def _drain(feed) -> None:  # type: ignore[no-untyped-def]
    """Read until the feed stays quiet a moment: a run's create and its write may arrive as
    separate notifications, the second after the first has been read."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        fd = feed.fileno()
        if fd is not None:
            select.select([fd], [], [], 0.3)
        else:
            time.sleep(0.3)
        if not feed.changed():
            return
    raise AssertionError("the feed never went quiet")


def test_the_feed_names_runs_written_by_another_process(store: Store, db_url: str) -> None:
    feed = store.run_feed()
    other = open_store(db_url)
    try:
        assert feed.changed() == set()
        run, _ = other.create_run(Workflow(name="w"), {})
        other.write(run.id, {"status": "running"}, {}, [
            RunEvent(run_id=run.id, seq=1, type=EventType.RUN_STARTED, ts=time.time())])
        assert run.id in _changed_soon(feed, {run.id})
        assert feed.pushes is (feed.fileno() is not None)
        assert feed.pushes is db_url.startswith("postgresql")
        # read once: a quiet database names nothing
        _drain(feed)
        assert feed.changed() == set()
        second, _ = other.create_run(Workflow(name="w"), {})
        other.write(second.id, {}, {}, [
            RunEvent(run_id=second.id, seq=1, type=EventType.RUN_STARTED, ts=time.time())])
        assert _changed_soon(feed, {second.id}) == {second.id}
    finally:
        feed.close()
        other.close()
