"""The run presenter: what the window shows of runs, fed by the RunController's events.

It keeps, per run, the run status and each step's ``StepView`` (status, attempt, duration,
branch, error, the output the events carry) from ``run_status_changed``/``steps_updated``,
and the canvas badges, the run label, the actions and the Step tab read that state
(STYLE.md rule 15). The store is read only:
- once when a past run is opened (History, the inbox, a resumed run): its snapshot;
- for the Step tab (input, attempt log, the whole output — events carry a preview above
  16 KB): once when the selected step settles (completes, fails, waits, is skipped) or when
  a settled step is selected; a running step is shown from its events alone.
- the History list and the approvals inbox, when a run's status changes (not per event), and
  when another process started or changed runs (per batch the RunController hands on).
Never per frame. Commands on runs (start, cancel, retry, decide, send an event) go to the
RunController.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QTabWidget, QWidget

from flowdesk.document.library import WorkflowLibrary
from flowdesk.document.run_controller import RunController, StepView
from flowdesk.engine.teststep import workflow_up_to
from flowdesk.model.errors import FlowdeskError
from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot, StepRunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.face import WindowShell
from flowdesk.ui.panels.approvals import ApprovalsInbox
from flowdesk.ui.panels.run_panel import EventLog, HistoryTable, ProblemsList, StepDetails

__all__ = ["APPROVALS_TAB", "LIVE_STATUSES", "RunPresenter", "RunWidgets"]

APPROVALS_TAB = 3
LIVE_STATUSES = frozenset({StepStatus.PENDING, StepStatus.RUNNING})


@dataclass(frozen=True)
class RunWidgets:
    """The run panel's widgets the presenter fills."""

    tabs: QTabWidget
    event_log: EventLog
    step_details: StepDetails
    history: HistoryTable
    approvals: ApprovalsInbox
    problems: ProblemsList
    status_label: QLabel


class RunPresenter(QObject):
    """A QObject child of the window: when the window goes, so do its connections to the
    RunController (which outlives it), and no event reaches a deleted widget."""

    def __init__(self, library: WorkflowLibrary, controller: RunController,
                 shell: WindowShell, widgets: RunWidgets, parent: QWidget, *,
                 state_changed: Callable[[], None], reselect: Callable[[], None],
                 open_workflow: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.library = library
        self.controller = controller
        self.shell = shell
        self.widgets = widgets
        self._state_changed = state_changed  # the window updates its actions
        self._reselect = reselect  # the window re-shows the selected step
        self._open_workflow = open_workflow
        self.scene: WorkflowScene | None = None
        self.current_run: str | None = None
        self.resumed_runs: list[str] = []  # interrupted runs carried on, not yet shown
        self._status: dict[str, RunStatus] = {}
        self._views: dict[str, dict[str, StepView]] = {}
        self._details: dict[tuple[str, str], StepRunSnapshot | None] = {}
        controller.steps_updated.connect(self._steps_updated)
        controller.run_status_changed.connect(self._run_status_changed)
        controller.events_received.connect(widgets.event_log.append)
        controller.waiting_changed.connect(self.refresh_approvals)
        controller.runs_resumed.connect(self._runs_resumed)
        controller.runs_changed_elsewhere.connect(self._changed_elsewhere)
        widgets.history.run_opened.connect(self.show_run)
        widgets.approvals.decision_made.connect(self._decide)
        widgets.approvals.event_sent.connect(self._send_event)
        widgets.approvals.run_opened.connect(self.open_run_of_any_workflow)

    # -- state -------------------------------------------------------------------------------
    def status(self, run_id: str | None = None) -> RunStatus | None:
        """The run's status as its events told (the shown run by default)."""
        run_id = self.current_run if run_id is None else run_id
        return None if run_id is None else self._status.get(run_id)

    def step_view(self, step_id: str, run_id: str | None = None) -> StepView | None:
        run_id = self.current_run if run_id is None else run_id
        return None if run_id is None else self._views.get(run_id, {}).get(step_id)

    def document_opened(self, scene: WorkflowScene) -> None:
        """A workflow was opened: no run of it is shown yet."""
        self.scene = scene
        self.current_run = None
        self.update_run_label()  # the previous workflow's run is not this one's
        self.widgets.event_log.show_run(None, [])
        self.widgets.step_details.show_step(None, None)
        self.refresh_history()
        self.show_resumed_run()

    # -- showing a run -----------------------------------------------------------------------
    def _show(self, run_id: str, status: RunStatus, views: dict[str, StepView],
              events: list[RunEvent]) -> None:
        self.current_run = run_id
        self._status[run_id] = status
        self._views[run_id] = views
        if self.scene is not None:
            self.scene.apply_step_views(views, replace=True)
        self.widgets.event_log.show_run(run_id, events)
        self._reselect()
        self.update_run_label()
        self._state_changed()

    def show_run(self, run_id: str) -> None:
        """Show a past run on the canvas: its badges, events and outputs (one store read)."""
        run = self.library.get_run(run_id)
        self._remember_snapshot(run)
        self._show(run_id, run.status, StepView.from_snapshot(run),
                   self.library.events(run_id))

    def _remember_snapshot(self, run: RunSnapshot) -> None:
        for step_id, step in run.steps.items():
            self._details[(run.id, step_id)] = step

    def open_run_of_any_workflow(self, run_id: str) -> None:
        run = self.library.get_run(run_id)
        doc = self.shell.doc
        if doc is None or doc.name != run.workflow_name:
            try:
                self._open_workflow(run.workflow_name)
            except FlowdeskError:
                return
        self.show_run(run_id)

    def show_step_details(self, node_id: str | None) -> None:
        if node_id is None or self.current_run is None:
            self.widgets.step_details.show_step(node_id, None)
            return
        self.widgets.step_details.show_step(node_id, self._step_details(self.current_run, node_id))

    def _step_details(self, run_id: str, step_id: str) -> StepRunSnapshot | None:
        view = self._views.get(run_id, {}).get(step_id)
        if view is not None and view.status in LIVE_STATUSES:
            if view.status is StepStatus.PENDING and view.attempt == 0:
                return None  # not run yet (in this run or this retry)
            return StepRunSnapshot(step_id=step_id, status=view.status, attempts=view.attempt,
                                   error=view.error, output=view.output)
        key = (run_id, step_id)
        if key not in self._details:  # settled since last read: read its whole record once
            self._details[key] = self.library.get_step_run(run_id, step_id)
        return self._details[key]

    # -- events ------------------------------------------------------------------------------
    def _steps_updated(self, run_id: str, views: dict[str, StepView]) -> None:
        known = self._views.setdefault(run_id, {})
        for step_id, view in views.items():
            known[step_id] = view
            self._details.pop((run_id, step_id), None)  # what was read is out of date
        if run_id != self.current_run or self.scene is None:
            return
        self.scene.apply_step_views(views)
        selected = self.scene.selected_node_ids()
        if len(selected) == 1 and selected[0] in views:
            view = views[selected[0]]
            if view.status is StepStatus.RUNNING and "text" in view.extra:
                self.widgets.step_details.show_streaming(selected[0], view.extra["text"])
            else:
                self.show_step_details(selected[0])

    def _run_status_changed(self, run_id: str, status: str) -> None:
        self._status[run_id] = RunStatus(status)
        if run_id == self.current_run:
            self.update_run_label()
            self._state_changed()
            if RunStatus(status) is not RunStatus.RUNNING:
                self._reselect()
        if run_id == self.current_run or self.widgets.history.has_run(run_id):
            # any run listed in History, shown or not (e.g. one approved in the inbox)
            self.refresh_history()

    def _changed_elsewhere(self, run_ids: list[str]) -> None:
        """Runs another process started or carried on (a worker, another desk, the command
        line): History lists them; with no run shown, the newest of the open workflow's is
        shown, and its badges then follow it live like a run started here."""
        if self.shell.doc is None:
            return
        self.refresh_history()
        if self.current_run is None:
            newest_first = self.widgets.history.run_ids()
            ours = [r for r in newest_first if r in run_ids]
            if ours:
                self.show_run(ours[0])

    def update_run_label(self) -> None:
        status = self.status()
        if self.current_run is None or status is None:
            self.widgets.status_label.setText("")
        else:
            self.widgets.status_label.setText(f"run {self.current_run[:8]}: {status.value}")

    def refresh_history(self) -> None:
        if self.shell.doc is not None:
            self.widgets.history.set_runs(self.library.runs(self.shell.doc.name))

    # -- commands ----------------------------------------------------------------------------
    def start_run(self, run_input: Any = None, up_to: str | None = None) -> str | None:
        """Run the open workflow; with ``up_to``, only that step and its upstream steps
        ("Run to here": a real run, in History)."""
        doc = self.shell.doc
        if doc is None:
            return None
        self.library.save_now()
        try:
            workflow = doc.snapshot() if up_to is None else workflow_up_to(doc.snapshot(),
                                                                           up_to)
            run_id = self.controller.start_run(workflow, run_input, doc.version)
        except FlowdeskError as exc:
            self.widgets.tabs.setCurrentWidget(self.widgets.problems)
            self.shell.notify(f"Run refused: {exc}")
            return None
        views = {n.id: StepView() for n in workflow.nodes}
        self._show(run_id, self._status.get(run_id, RunStatus.PENDING), views, [])
        self.widgets.tabs.setCurrentWidget(self.widgets.event_log)
        self.refresh_history()
        return run_id

    def cancel_run(self) -> None:
        if self.current_run is not None:
            self.controller.cancel(self.current_run)

    def retry_run(self, definition: str = "current") -> None:
        """Retry the shown run; "current" runs the workflow as edited (saved first),
        "original" the definition the run ran. The event log says which was used."""
        if self.current_run is not None:
            self.library.save_now()
            self.controller.retry(self.current_run, definition=definition)
            self.shell.notify("Retrying with the current workflow" if definition == "current"
                              else "Retrying with the original workflow (edits since are "
                                   "not used)")

    def run_from_selected(self) -> None:
        if self.current_run is None or self.scene is None:
            self.shell.notify("Run the workflow once first; then you can run it again from "
                              "a step")
            return
        nodes = self.scene.selected_node_ids()
        if len(nodes) != 1:
            self.shell.notify("Select the one step to run from")
            return
        self.library.save_now()
        self.controller.retry(self.current_run, from_step=nodes[0])
        self.shell.notify(f"Running again from '{nodes[0]}' with the current workflow")

    # -- approvals and resumed runs ----------------------------------------------------------
    def show_approvals(self) -> None:
        """Bring the Approvals tab forward, ready to type a comment on the first approval."""
        self.refresh_approvals()
        self.widgets.tabs.setCurrentWidget(self.widgets.approvals)
        dock = self.widgets.tabs.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()
        self.widgets.approvals.focus_first()

    def refresh_approvals(self) -> None:
        waiting = self.library.waiting()
        self.widgets.approvals.set_waiting(waiting)
        approvals = sum(1 for w in waiting if w.get("kind") == "approval")
        self.widgets.tabs.setTabText(APPROVALS_TAB,
                               f"Approvals ({approvals})" if approvals else "Approvals")

    def _decide(self, run_id: str, step_id: str, approved: bool, comment: str,
                data: Any) -> None:
        try:
            self.controller.decide(run_id, step_id, approved=approved, comment=comment,
                                   data=data)
        except FlowdeskError as exc:
            self.shell.notify(str(exc))
        self.refresh_approvals()

    def _send_event(self, name: str, key: Any, data: Any) -> None:
        run_ids = self.controller.send_event(name, key, data)
        self.shell.notify(f"Event '{name}' woke {len(run_ids)} run(s)" if run_ids else
                          f"No run waits for '{name}'; it is kept for the first that will")

    def _runs_resumed(self, run_ids: list[str]) -> None:
        """Interrupted runs (flowdesk was killed or crashed) are carried on: say so, by
        name, and show the run when its workflow is open."""
        described = []
        for run_id in run_ids:
            try:
                name = self.library.get_run(run_id).workflow_name
            except FlowdeskError:
                continue
            described.append(f"run {run_id[:8]} of '{name}'")
            self.resumed_runs.append(run_id)
        if not described:
            return
        self.shell.notify(
            f"Resumed {', '.join(described)}: interrupted when flowdesk last stopped"
            if len(described) < 4 else
            f"Resumed {len(described)} runs interrupted when flowdesk last stopped: "
            f"{', '.join(described)}")
        self.show_resumed_run()

    def show_resumed_run(self) -> None:
        doc = self.shell.doc
        if doc is None or self.current_run is not None:
            return
        for run_id in list(self.resumed_runs):
            try:
                if self.library.get_run(run_id).workflow_name == doc.name:
                    self.resumed_runs.remove(run_id)
                    self.show_run(run_id)
                    return
            except FlowdeskError:
                self.resumed_runs.remove(run_id)
