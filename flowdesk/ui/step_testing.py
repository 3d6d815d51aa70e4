"""Testing one step from the app: the inspector's Test/Pin bar, the results in the Step tab,
pinning (as JSON, or a shown output with one click) and "Run to here".

Contract:
- *Test step* (the bar's button, Run → Test selected step, Ctrl+Shift+T, the canvas's context
  menu) runs only the selected step through ``RunController.test_step`` on the UI's loop (the
  window never waits): its upstream outputs are the document's pins, else the outputs of the
  workflow's past runs. The result (or why it could not run, e.g. an upstream step with no
  data) shows in the Step tab; no run is recorded, History does not change.
- Pins are document edits, one undo entry each (``SetPinCommand``), saved with the draft by
  the library: *Pin output…* edits one as JSON, *Pin this output* in the Step tab pins what
  is shown there (a past run's step or a test result), *Unpin* removes one.
- *Run to here* (Run → Run to selected step, Ctrl+Shift+Enter, the context menu) asks for
  the input as Run does and runs the selected step and its upstream steps only, as a real run
  (it is in History). Pins do not apply to it, nor to any other run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QTabWidget, QWidget

from flowdesk.document.document import UNSET, WorkflowDocument
from flowdesk.document.pins import SetPinCommand
from flowdesk.document.run_controller import RunController
from flowdesk.engine.teststep import StepTrial
from flowdesk.ui.face import WindowShell
from flowdesk.ui.panels.run_panel import StepDetails
from flowdesk.ui.panels.step_test import PinDialog, StepTestBar

__all__ = ["StepTesting"]


class StepTesting(QObject):
    def __init__(self, controller: RunController, shell: WindowShell, tabs: QTabWidget,
                 details: StepDetails, parent: QWidget, *,
                 selected: Callable[[], list[str]], push: Callable[[QUndoCommand], None],
                 run_dialog: Callable[[str], object]) -> None:
        super().__init__(parent)
        self.controller = controller
        self.shell = shell
        self.tabs = tabs
        self.details = details
        self._parent = parent
        self._selected = selected
        self._push = push
        self._run_dialog = run_dialog
        self.bar: StepTestBar | None = None  # the bar the inspector shows now
        self.trials: dict[str, StepTrial] = {}  # the latest test of each step
        self.pin_dialog: PinDialog | None = None
        self._doc: WorkflowDocument | None = None
        controller.step_tested.connect(self._tested)
        controller.step_test_failed.connect(self._test_failed)
        details.pin_requested.connect(self.pin_output)

    def document_opened(self, doc: WorkflowDocument) -> None:
        if self._doc is not None and shiboken6.isValid(self._doc):
            try:
                self._doc.pin_changed.disconnect(self._pin_changed)
            except (RuntimeError, TypeError):
                pass
        self._doc = doc
        self.trials = {}
        doc.pin_changed.connect(self._pin_changed)

    def step_bar(self, node_id: str) -> StepTestBar:
        """The Test/Pin bar for the inspector's form of ``node_id``."""
        bar = StepTestBar(node_id)
        bar.test_clicked.connect(self.test)
        bar.pin_clicked.connect(self.edit_pin)
        bar.unpin_clicked.connect(self.unpin)
        doc = self.shell.doc
        bar.set_pinned(doc is not None and doc.is_pinned(node_id))
        bar.set_testing(node_id in self.controller.testing)
        self.bar = bar
        return bar

    def _live_bar(self, node_id: str) -> StepTestBar | None:
        bar = self.bar
        if bar is None or not shiboken6.isValid(bar) or bar.node_id != node_id:
            return None
        return bar

    def _pin_changed(self, node_id: str) -> None:
        bar = self._live_bar(node_id)
        if bar is not None and self.shell.doc is not None:
            bar.set_pinned(self.shell.doc.is_pinned(node_id))

    def _one_selected(self, what: str) -> str | None:
        nodes = self._selected()
        if len(nodes) != 1:
            self.shell.notify(f"Select the one step to {what}")
            return None
        return nodes[0]

    # -- testing -----------------------------------------------------------------------------
    def test_selected(self) -> None:
        node_id = self._one_selected("test")
        if node_id is not None:
            self.test(node_id)

    def test(self, node_id: str) -> None:
        doc = self.shell.doc
        if doc is None or not doc.has_node(node_id) or node_id in self.controller.testing:
            return
        self.controller.test_step(doc.snapshot(), node_id, dict(doc.pins))
        bar = self._live_bar(node_id)
        if bar is not None:
            bar.set_testing(True)
        self.shell.notify(f"Testing '{node_id}' alone…")

    def _show_details(self) -> None:
        self.tabs.setCurrentWidget(self.details)

    def _tested(self, node_id: str, trial: StepTrial) -> None:
        self.trials[node_id] = trial
        bar = self._live_bar(node_id)
        if bar is not None:
            bar.set_testing(False)
        self.details.show_trial(node_id, trial)
        self._show_details()
        self.shell.notify(f"Tested '{node_id}': {trial.status.value}"
                          + (f": {trial.error}" if trial.error else "")
                          + " (no run recorded)")

    def _test_failed(self, node_id: str, message: str) -> None:
        bar = self._live_bar(node_id)
        if bar is not None:
            bar.set_testing(False)
        self.details.show_test_problem(node_id, message)
        self._show_details()
        self.shell.notify(f"Cannot test '{node_id}': {message}")

    # -- pins --------------------------------------------------------------------------------
    def edit_pin(self, node_id: str) -> PinDialog | None:
        """Edit the pinned output of ``node_id`` as JSON (prefilled with the pin, else the
        latest test's output, else its newest output in a run: as n8n offers it)."""
        doc = self.shell.doc
        if doc is None or not doc.has_node(node_id):
            return None
        trial = self.trials.get(node_id)
        initial: Any = {}
        if doc.is_pinned(node_id):
            initial = doc.pins[node_id]
        elif trial is not None and trial.ok:
            initial = trial.output
        else:
            _run, initial = self.controller.store.last_outputs(doc.name, [node_id]).get(
                node_id, ("", {}))
        dialog = PinDialog(node_id, initial, self._parent)
        dialog.accepted.connect(lambda: self.pin_output(node_id, dialog.value))
        self.pin_dialog = dialog
        dialog.open()
        return dialog

    def edit_selected_pin(self) -> None:
        node_id = self._one_selected("pin")
        if node_id is not None:
            self.edit_pin(node_id)

    def pin_output(self, node_id: str, output: Any) -> None:
        doc = self.shell.doc
        if doc is None or not doc.has_node(node_id):
            return
        self._push(SetPinCommand(doc, node_id, output))
        self.shell.notify(f"Pinned the output of '{node_id}': the steps after it are "
                          "tested on it (Ctrl+Z undoes it)")

    def unpin(self, node_id: str) -> None:
        doc = self.shell.doc
        if doc is not None and doc.is_pinned(node_id):
            self._push(SetPinCommand(doc, node_id, UNSET))
            self.shell.notify(f"Unpinned '{node_id}'")

    # -- run to here -------------------------------------------------------------------------
    def run_to_selected(self) -> None:
        node_id = self._one_selected("run to")
        if node_id is not None:
            self._run_dialog(node_id)
