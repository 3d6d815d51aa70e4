"""RunController: the one adapter between the engine and Qt.

The engine publishes plain events on its bus; this object queues them and, at most once per
frame (``frame_ms``), turns the queue into Qt signals: ``steps_updated`` with the latest view
of each changed step, ``run_status_changed``, and ``events_received`` with the batch (for the
event log). Thousands of events a second therefore cost the UI one update per frame.

Runs are executed as asyncio tasks on the running loop (qasync's in the app), so the UI never
waits for a step. Commands that change runs (start, cancel, retry, decide) go through here,
and so does testing one step (``test_step``, on the same loop; no run is recorded): its
result comes back as ``step_tested`` (or ``step_test_failed`` with why it could not run).

Runs other processes execute on the same database (a worker, a desk on a team database, the
command line) reach the same queue through ``watch(feed)``: the feed names the runs changed
(PostgreSQL pushes them with LISTEN/NOTIFY, SQLite is polled), their new events are read and
handed on like this process's own, and ``runs_changed_elsewhere`` tells the window. Every
event is handed on once: each run's last sequence number is remembered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from flowdesk.engine import Engine, RunClaimed
from flowdesk.engine.teststep import trial_step
from flowdesk.model.errors import FlowdeskError
from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.workflow import Workflow

if TYPE_CHECKING:
    from flowdesk.store.feed import RunFeed

__all__ = ["RunController", "StepView"]

log = logging.getLogger(__name__)

_STEP_STATUS = {
    EventType.STEP_STARTED: StepStatus.RUNNING,
    EventType.STEP_RETRYING: StepStatus.RUNNING,
    EventType.STEP_COMPLETED: StepStatus.COMPLETED,
    EventType.STEP_FAILED: StepStatus.FAILED,
    EventType.STEP_SKIPPED: StepStatus.SKIPPED,
    EventType.STEP_WAITING: StepStatus.WAITING,
    EventType.STEP_CANCELLED: StepStatus.CANCELLED,
}
_RUN_STATUS = {
    EventType.RUN_STARTED: RunStatus.RUNNING,
    EventType.RUN_RESUMED: RunStatus.RUNNING,
    EventType.RUN_RETRIED: RunStatus.RUNNING,
    EventType.RUN_COMPLETED: RunStatus.COMPLETED,
    EventType.RUN_FAILED: RunStatus.FAILED,
    EventType.RUN_PAUSED: RunStatus.PAUSED,
    EventType.RUN_CANCELLED: RunStatus.CANCELLED,
}


@dataclass
class StepView:
    """What the canvas shows of a step: status, attempt count, duration, branch, error, and
    the output its events carried (a ``{"truncated": True, "preview": ...}`` dict above
    16 KB; the store keeps it whole)."""

    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    duration_ms: float | None = None
    branch: str | None = None
    error: str | None = None
    output: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, run: RunSnapshot) -> dict[str, StepView]:
        return {sid: cls(status=s.status, attempt=s.attempts, duration_ms=s.duration_ms,
                         branch=s.branch, error=s.error, output=s.output)
                for sid, s in run.steps.items()}


class RunController(QObject):
    run_started = Signal(str)  # run id
    run_status_changed = Signal(str, str)  # run id, status
    steps_updated = Signal(str, dict)  # run id, {step id: StepView}
    events_received = Signal(list)  # [RunEvent], in order
    waiting_changed = Signal()  # the approvals inbox may have changed
    error_raised = Signal(str)
    runs_resumed = Signal(list)  # ids of interrupted runs carried on (e.g. after a crash)
    runs_changed_elsewhere = Signal(list)  # ids of runs another process started or changed
    step_tested = Signal(str, object)  # step id, StepTrial (completed, failed or waiting)
    step_test_failed = Signal(str, str)  # step id, why it could not be tested

    def __init__(self, engine: Engine, parent: QObject | None = None,
                 frame_ms: int = 16, housekeeping_ms: int = 5000) -> None:
        super().__init__(parent)
        self.engine = engine
        self.store = engine.store
        self._queue: list[RunEvent] = []
        self._views: dict[str, dict[str, StepView]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flush_timer = QTimer(self, singleShot=True, interval=frame_ms)
        self._flush_timer.timeout.connect(self.flush)
        self._unsubscribe = engine.bus.subscribe(self._on_event)
        self._housekeeping = QTimer(self, interval=housekeeping_ms)
        self._housekeeping.timeout.connect(self.resume_due)
        self.flushes = 0  # how many UI updates were made (benchmarks read it)
        self._seen: dict[str, int] = {}  # run id -> the last event seq handed on
        self._feed: RunFeed | None = None
        self._feed_timer = QTimer(self)
        self._feed_timer.timeout.connect(self.check_feed)
        self._notifier: QSocketNotifier | None = None
        self.testing: set[str] = set()  # steps being tested now

    # -- events -> signals -------------------------------------------------------------------
    def _on_event(self, event: RunEvent) -> None:
        if event.seq <= self._seen.get(event.run_id, 0):
            return  # already handed on (read from the store, then followed, or the reverse)
        self._seen[event.run_id] = event.seq
        self._queue.append(event)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        if not self._queue:
            return
        batch, self._queue = self._queue, []
        self.flushes += 1
        changed: dict[str, dict[str, StepView]] = {}
        statuses: dict[str, RunStatus] = {}
        waiting = False
        for event in batch:
            if event.step_id is not None and event.type is EventType.STEP_PROGRESS:
                # e.g. an LLM's tokens as they arrive: the text so far, for the Step tab
                views = self._views.setdefault(event.run_id, {})
                view = views.setdefault(event.step_id, StepView(status=StepStatus.RUNNING))
                token = event.payload.get("token")
                if isinstance(token, str):
                    view.extra["text"] = view.extra.get("text", "") + token
                changed.setdefault(event.run_id, {})[event.step_id] = view
            elif event.step_id is not None and event.type in _STEP_STATUS:
                views = self._views.setdefault(event.run_id, {})
                view = views.setdefault(event.step_id, StepView())
                view.status = _STEP_STATUS[event.type]
                p = event.payload
                if event.type is EventType.STEP_STARTED:
                    view.attempt = p.get("attempt", view.attempt + 1)
                    view.duration_ms, view.error, view.branch = None, None, None
                    view.output = None
                    view.extra.pop("text", None)
                elif event.type is EventType.STEP_RETRYING:
                    view.attempt = p.get("attempt", view.attempt) + 1
                    view.error = p.get("error")
                else:
                    view.duration_ms = p.get("duration_ms", view.duration_ms)
                    view.branch = p.get("branch", view.branch)
                    view.output = p.get("output", view.output)
                    view.error = p.get("error", view.error if view.status is
                                       StepStatus.FAILED else None)
                changed.setdefault(event.run_id, {})[event.step_id] = view
                waiting = waiting or event.type is EventType.STEP_WAITING
            elif event.type in _RUN_STATUS:
                statuses[event.run_id] = _RUN_STATUS[event.type]
                if event.type is EventType.RUN_RETRIED:
                    for sid in event.payload.get("steps", []):
                        view = StepView()
                        self._views.setdefault(event.run_id, {})[sid] = view
                        changed.setdefault(event.run_id, {})[sid] = view
        for run_id, views in changed.items():
            self.steps_updated.emit(run_id, views)
        for run_id, status in statuses.items():
            self.run_status_changed.emit(run_id, status.value)
            waiting = waiting or status in (RunStatus.PAUSED, RunStatus.COMPLETED,
                                            RunStatus.CANCELLED, RunStatus.FAILED)
        self.events_received.emit(batch)
        if waiting:
            self.waiting_changed.emit()

    # -- commands ----------------------------------------------------------------------------
    def start_run(self, workflow: Workflow, input: Any = None,
                  workflow_version: int | None = None) -> str:
        """Validate and start a run; raises WorkflowInvalid / InvalidInput at once."""
        run, _ = self.engine.start(workflow, input, workflow_version=workflow_version)
        self._views[run.id] = {sid: StepView() for sid in run.steps}
        self.run_started.emit(run.id)
        self._spawn(self.engine.execute(run.id))
        return run.id

    def test_step(self, workflow: Workflow, step_id: str, pins: dict[str, Any],
                  run_input: Any = None) -> None:
        """Run only ``step_id`` of ``workflow`` (a snapshot) on ``pins``, else the outputs
        of past runs, as a task; the result comes as ``step_tested``."""
        self.testing.add(step_id)

        async def go() -> None:
            try:
                trial = await trial_step(workflow, step_id, registry=self.engine.registry,
                                         services=self.engine.services, history=self.store,
                                         pins=pins, run_input=run_input)
            except FlowdeskError as exc:
                self.step_test_failed.emit(step_id, str(exc))
            else:
                self.step_tested.emit(step_id, trial)
            finally:
                self.testing.discard(step_id)

        self._spawn(go())

    def cancel(self, run_id: str, reason: str = "cancelled in the app") -> None:
        self._spawn(self.engine.cancel(run_id, reason))

    def retry(self, run_id: str, from_step: str | None = None,
              definition: str = "current") -> None:
        """Retry a finished run: with the workflow as saved now ("current") or with the
        definition the run ran ("original")."""
        self.run_started.emit(run_id)
        self._spawn(self.engine.retry(run_id, from_step=from_step,
                                      definition="original" if definition == "original"
                                      else "current"))

    def decide(self, run_id: str, step_id: str, *, approved: bool, comment: str = "",
               data: Any = None) -> None:
        """Record a decision (DecisionError at once if it cannot apply), then carry on."""
        self.engine.decide(run_id, step_id, approved=approved, comment=comment, data=data)
        if not self.engine.is_active(run_id):
            self._spawn(self._carry_on(run_id))
        self.waiting_changed.emit()

    def send_event(self, name: str, key: str | None, data: Any) -> list[str]:
        run_ids = self.engine.send_event(name, key, data)
        for run_id in run_ids:
            if not self.engine.is_active(run_id):
                self._spawn(self._carry_on(run_id))
        self.waiting_changed.emit()
        return run_ids

    async def _carry_on(self, run_id: str) -> None:
        try:
            await self.engine.execute(run_id)
        except RunClaimed:
            await self.engine.follow(run_id, after_seq=self.store.last_seq(run_id))

    def resume_due(self) -> None:
        """Carry on interrupted runs and paused runs whose decision or timeout has come;
        ``runs_resumed`` names the interrupted ones (the user should hear of those)."""
        interrupted = []
        for run_id in self.store.resumable_runs():
            if not self.engine.is_active(run_id):
                if self.store.run_status(run_id) is not RunStatus.PAUSED:
                    interrupted.append(run_id)
                self._spawn(self._carry_on(run_id))
        if interrupted:
            self.runs_resumed.emit(interrupted)

    def start_housekeeping(self) -> None:
        self.resume_due()
        self._housekeeping.start()

    # -- runs of other processes -------------------------------------------------------------
    def watch(self, feed: RunFeed, interval_ms: int | None = None) -> None:
        """Follow the runs other processes change on this database: woken by the feed's
        socket where it pushes (PostgreSQL), and on a timer (every 250 ms where it pushes,
        no query; every second where it is polled)."""
        self._feed = feed
        self._feed_timer.setInterval(interval_ms or (250 if feed.pushes else 1000))
        self._feed_timer.start()
        self._watch_socket()

    def _watch_socket(self) -> None:
        fd = None if self._feed is None else self._feed.fileno()
        if self._notifier is not None and (fd is None or self._notifier.socket() != fd):
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if fd is not None and self._notifier is None:
            self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self.check_feed)

    def check_feed(self) -> list[str]:
        """Hand on the events other processes recorded since the last look; the ids of the
        runs that had some (or were just created)."""
        if self._feed is None:
            return []
        try:
            changed = self._feed.changed()
            self._watch_socket()  # the feed may have reconnected
            delivered = []
            for run_id in sorted(changed):
                if self.engine.is_active(run_id):
                    continue  # executed here: its events come over the bus
                new = run_id not in self._seen
                events = self.store.get_events(run_id, after_seq=self._seen.get(run_id, 0))
                for event in events:
                    self._on_event(event)
                if events or new:
                    self._seen.setdefault(run_id, 0)
                    delivered.append(run_id)
        except FlowdeskError as exc:  # the database is busy or gone: look again later
            log.warning("cannot follow other processes' runs: %s", exc)
            return []
        if delivered:
            self.flush()
            self.runs_changed_elsewhere.emit(delivered)
            self.waiting_changed.emit()  # a run elsewhere may wait, or no longer wait
        return delivered

    def step_views(self, run_id: str) -> dict[str, StepView]:
        if run_id not in self._views:
            self._views[run_id] = StepView.from_snapshot(self.store.get_run(run_id))
        return self._views[run_id]

    def is_running(self, run_id: str) -> bool:
        return self.engine.is_active(run_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("run task failed: %r", t.exception())
                self.error_raised.emit(str(t.exception()))

        task.add_done_callback(done)

    async def aclose(self) -> None:
        self._housekeeping.stop()
        self._feed_timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._unsubscribe()
        await self.engine.aclose()
