"""The main window: palette · canvas · inspector, with the run panel below.

It wires widgets to the document (edits are undo commands, through CanvasActions), to the
library (open/save), and to the RunController (runs, approvals). It holds no workflow state
of its own beyond which workflow is open and which run is shown.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QMimeData, QPointF, QRect, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from flowdesk.document.document import WorkflowDocument
from flowdesk.document.library import WorkflowLibrary
from flowdesk.document.run_controller import RunController, StepView
from flowdesk.model.errors import FlowdeskError
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.paths import data_dir
from flowdesk.resources import examples_dir, icons_dir
from flowdesk.ui import theme
from flowdesk.ui.actions import CanvasActions
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.view import WorkflowView
from flowdesk.ui.dialogs import LibraryDialog, RunInputDialog, WelcomeDialog
from flowdesk.ui.panels.approvals import ApprovalsInbox
from flowdesk.ui.panels.inspector import Inspector
from flowdesk.ui.panels.palette import Palette
from flowdesk.ui.panels.run_panel import EventLog, HistoryTable, ProblemsList, StepDetails
from flowdesk.ui.quick_add import QuickAddDialog

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)


def app_settings() -> QSettings:
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def _scrolling(widget: QWidget) -> QScrollArea:
    """A tab page that scrolls instead of forcing its height on the run panel (so the
    window stays usable at 1280×720)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class _RunTabs(QTabWidget):
    """The run panel's tabs; a page wrapped by ``_scrolling`` is still found by its own
    widget (``setCurrentWidget(step_details)``)."""

    def _page(self, widget: QWidget) -> QWidget:
        for i in range(self.count()):
            page = self.widget(i)
            if isinstance(page, QScrollArea) and page.widget() is widget:
                return page
        return widget

    def setCurrentWidget(self, widget: QWidget) -> None:
        super().setCurrentWidget(self._page(widget))

    def indexOf(self, widget: QWidget) -> int:
        return super().indexOf(self._page(widget))


class MainWindow(QMainWindow):
    notice = Signal(str)
    closed = Signal()  # the person closed the window (after its work was saved)

    def __init__(self, library: WorkflowLibrary, controller: RunController) -> None:
        super().__init__()
        self.library = library
        self.controller = controller
        self.registry = library.registry
        self.doc: WorkflowDocument | None = None
        self.scene: WorkflowScene | None = None
        self.actions_: CanvasActions | None = None
        self.current_run: str | None = None
        self.last_notice = ""
        self.settings = app_settings()
        self.setWindowIcon(QIcon(str(icons_dir() / "flowdesk.svg")))

        self.view = WorkflowView()
        self.view.step_dropped.connect(self._dropped)
        self.setCentralWidget(self.view)
        self.empty_hint = QLabel("Drag a step from the palette to start", self.view)
        self.empty_hint.setProperty("role", "hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        catalog = self.registry.catalog()
        self.palette = Palette(catalog)
        self.palette.step_activated.connect(self.add_step_here)
        self.inspector = Inspector(self._push)
        self.event_log = EventLog()
        self.step_details = StepDetails()
        self.history = HistoryTable()
        self.history.run_opened.connect(self.show_run)
        self.approvals = ApprovalsInbox()
        self.approvals.decision_made.connect(self._decide)
        self.approvals.event_sent.connect(self._send_event)
        self.approvals.run_opened.connect(self._open_run_of_any_workflow)
        self.problems = ProblemsList()
        self.problems.problem_activated.connect(self._select_node)
        self.tabs = _RunTabs()
        for widget, title in ((self.event_log, "Events"), (_scrolling(self.step_details), "Step"),
                              (self.history, "History"),
                              (_scrolling(self.approvals), "Approvals"),
                              (self.problems, "Problems")):
            self.tabs.addTab(widget, title)
        self.tabs.currentChanged.connect(self._fit_run_tab)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._keep_focus_visible)
        self._dock(self.palette, "Steps", Qt.DockWidgetArea.LeftDockWidgetArea, 240)
        self._dock(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea, 360)
        self._dock(self.tabs, "Run", Qt.DockWidgetArea.BottomDockWidgetArea, 260)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))

        self.setAcceptDrops(True)
        self.palette.search.setAcceptDrops(False)  # a dropped file opens, it is not text
        self.view.file_dropped.connect(lambda path: self.open_dropped([path]))
        self._build_actions()
        controller.steps_updated.connect(self._steps_updated)
        controller.run_status_changed.connect(self._run_status_changed)
        controller.events_received.connect(self.event_log.append)
        controller.waiting_changed.connect(self.refresh_approvals)
        controller.error_raised.connect(self.notify)
        controller.runs_resumed.connect(self._runs_resumed)
        self.resumed_runs: list[str] = []  # interrupted runs carried on, not yet shown
        library.saved.connect(lambda name, v: self.statusBar().showMessage(
            f"Saved '{name}' (version {v})", 3000))
        self.save_label = QLabel()
        self.save_label.setProperty("role", "error")
        self.save_label.hide()
        self.statusBar().addPermanentWidget(self.save_label)
        library.save_failed.connect(self._save_failed)
        self.refresh_approvals()
        self._update_title()
        self.restore_layout()

    # -- layout helpers ----------------------------------------------------------------------
    def _dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, size: int) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        orientation = Qt.Orientation.Vertical if area == Qt.DockWidgetArea.BottomDockWidgetArea \
            else Qt.Orientation.Horizontal
        self.resizeDocks([dock], [size], orientation)

    def restore_layout(self) -> None:
        """The size, place and dock layout the window had when it was last closed; on a
        first start, a size that fits the screen with the run panel a quarter high."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            if isinstance(state, QByteArray):
                self.restoreState(state)
            return
        screen = self.screen() or QApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1440, 900)
        # leave room for the window manager's frame and title bar
        width, height = min(1440, area.width() - 24), min(900, area.height() - 48)
        self.resize(width, height)
        self.move(area.left() + (area.width() - width) // 2,
                  area.top() + max(0, (area.height() - height) // 2))
        self.resizeDocks([self.findChild(QDockWidget, "dock_Run")],
                         [max(150, min(260, height // 4))], Qt.Orientation.Vertical)

    def _fit_run_tab(self, index: int) -> None:
        """A tall tab (Approvals, Step) grows the run panel to show it whole when the window
        has room (the canvas keeps at least half the height); else the tab scrolls."""
        page = self.tabs.widget(index)
        dock = self.findChild(QDockWidget, "dock_Run")
        if not isinstance(page, QScrollArea) or page.widget() is None or dock is None or \
                dock.isFloating() or not dock.isVisible():
            return
        chrome = dock.height() - page.height()  # dock title and tab bar
        wanted = min(page.widget().minimumSizeHint().height() + chrome,
                     int(self.centralWidget().height() + dock.height()) // 2)
        if dock.height() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def _keep_focus_visible(self, _old: QWidget | None, new: QWidget | None) -> None:
        """A field that gets the keyboard in a scrolling run tab is scrolled into view."""
        if new is None or not shiboken6.isValid(self):
            return
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            if isinstance(page, QScrollArea) and page.widget() is not None and \
                    page.widget().isAncestorOf(new):
                page.ensureWidgetVisible(new, 20, 60)  # and the buttons under it
                return

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.empty_hint.setGeometry(self.view.rect())

    def _action(self, text: str, slot: Any, shortcut: Any = None, menu: Any = None,
                canvas_only: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if canvas_only:
            # single keys (F, Delete, Tab) act on the canvas, not while typing in a field
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        edit_menu = bar.addMenu("&Edit")
        view_menu = bar.addMenu("&View")
        run_menu = bar.addMenu("&Run")
        a = self._action
        self.act_new = a("New workflow", self.new_workflow, QKeySequence.StandardKey.New,
                         file_menu)
        self.act_open = a("Workflows…", self.show_library, QKeySequence.StandardKey.Open,
                          file_menu, tip="Open, rename, duplicate or delete workflows")
        self.act_open_file = a("Open file…", self.open_file_dialog, "Ctrl+Shift+O", file_menu)
        self.recent_menu = file_menu.addMenu("Recent files")
        self.act_import = a("Import…", self.import_dialog, "Ctrl+I", file_menu,
                            tip="Add workflow files to your workflows")
        file_menu.addSeparator()
        self.act_save = a("Save version", self.save_version, QKeySequence.StandardKey.Save,
                          file_menu, tip="Record this workflow as a new numbered version")
        self.act_save_as = a("Save as…", self.save_as_dialog, QKeySequence.StandardKey.SaveAs,
                             file_menu, tip="Continue in a copy of this workflow under a new "
                                            "name")
        self.act_rename = a("Rename…", self.rename_dialog, None, file_menu)
        self.act_export = a("Export…", self.export_dialog, "Ctrl+E", file_menu,
                            tip="Write this workflow to a .json file")
        file_menu.addSeparator()
        a("Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)

        self.act_undo = a("Undo", self._undo, QKeySequence.StandardKey.Undo, edit_menu)
        self.act_redo = a("Redo", self._redo, ["Ctrl+Shift+Z", "Ctrl+Y"], edit_menu)
        edit_menu.addSeparator()
        self.act_cut = a("Cut", lambda: self._with_actions("cut"), "Ctrl+X", edit_menu, True)
        self.act_copy = a("Copy", lambda: self._with_actions("copy"), "Ctrl+C", edit_menu, True)
        self.act_paste = a("Paste", self.paste_here, "Ctrl+V", edit_menu, True)
        self.act_duplicate = a("Duplicate", lambda: self._with_actions("duplicate"), "Ctrl+D",
                               edit_menu, True)
        self.act_delete = a("Delete", lambda: self._with_actions("delete_selected"),
                            [QKeySequence.StandardKey.Delete, "Backspace"], edit_menu, True)
        self.act_select_all = a("Select all", lambda: self._with_actions("select_all"),
                                "Ctrl+A", edit_menu, True)
        self.act_rename_step = a("Rename step", self.rename_selected_step, "F2", edit_menu,
                                 tip="Edit the selected step's label in the inspector")
        self.act_quick_add = a("Add step…", self.quick_add, ["Tab", "Ctrl+K"], edit_menu, True)
        self.act_note = a("Add sticky note", self.add_note, "Shift+N", edit_menu, True)

        self.act_fit = a("Zoom to fit", self.view.zoom_to_fit, "F", view_menu, True)
        self.act_zoom_in = a("Zoom in", lambda: self.view.set_zoom(self.view.zoom * 1.2, True),
                             ["Ctrl+=", "Ctrl++"], view_menu)
        self.act_zoom_out = a("Zoom out", lambda: self.view.set_zoom(self.view.zoom / 1.2,
                                                                     True), "Ctrl+-", view_menu)
        a("Actual size", lambda: self.view.set_zoom(1.0, True), "Ctrl+0", view_menu)
        self.act_layout = a("Auto-layout", self.auto_layout, "Ctrl+L", view_menu,
                            tip="Arrange the steps in layers, left to right")
        self.act_minimap = a("Minimap", self._minimap_toggled, "Ctrl+M", view_menu,
                             tip="Show or hide the overview in the canvas corner")
        self.act_minimap.setCheckable(True)
        self.act_minimap.setChecked(self.settings.value("view/minimap", True, bool))
        self.view.minimap.set_wanted(self.act_minimap.isChecked())
        self.act_dark = a("Dark theme", self.toggle_theme, None, view_menu)
        self.act_dark.setCheckable(True)
        self.act_dark.setChecked(theme.current_theme().name == "dark")

        self.act_run = a("Run…", self.run_dialog, ["Ctrl+Return", "F5"], run_menu,
                         tip="Run the workflow")
        self.act_cancel = a("Cancel run", self.cancel_run, None, run_menu)
        self.act_retry = a("Retry with current workflow", self.retry_run, None, run_menu,
                           tip="Run the failed steps again, with the workflow as it is now")
        self.act_retry_original = a(
            "Retry with original workflow", lambda: self.retry_run(definition="original"),
            None, run_menu, tip="Run the failed steps again, as the run first ran them")
        self.act_run_from = a("Run from selected step", self.run_from_selected, "Ctrl+Shift+R",
                              run_menu)
        run_menu.addSeparator()
        self.act_show_approvals = a("Approvals inbox", self.show_approvals, "Ctrl+Shift+A",
                                    run_menu, tip="What waits for a decision or an event")
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        for action in (self.act_open, self.act_save, None, self.act_undo, self.act_redo, None,
                       self.act_run, self.act_cancel, self.act_retry, None, self.act_layout,
                       self.act_fit):
            if action is None:
                tb.addSeparator()
            else:
                tb.addAction(action)
        self._refresh_recent()
        self._update_actions()

    # -- documents ---------------------------------------------------------------------------
    def _follow(self, signal: Any, slot: Any) -> None:
        self._doc_connections.append((signal, slot))
        signal.connect(slot)

    def _release_document(self) -> None:
        """Stop following the open document and its scene (before switching or closing)."""
        for signal, slot in getattr(self, "_doc_connections", []):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._doc_connections = []
        if self.scene is not None:
            try:
                self.scene.selectionChanged.disconnect(self._selection_changed)
            except (RuntimeError, TypeError):
                pass

    def open_document(self, doc: WorkflowDocument) -> None:
        self._release_document()
        old_scene = self.scene
        self.doc = doc
        self.scene = WorkflowScene(doc)
        self.actions_ = CanvasActions(doc, self.scene)
        self.scene.connect_requested.connect(self.actions_.connect)
        self.scene.nodes_moved.connect(self.actions_.move)
        self.scene.note_moved.connect(self.actions_.move_note)
        self.scene.note_edited.connect(self.actions_.edit_note)
        self.scene.selectionChanged.connect(self._selection_changed)
        self._doc_connections: list[tuple[Any, Any]] = []
        self.scene.connection_feedback.connect(self._connection_feedback)
        self.view.setScene(self.scene)
        if old_scene is not None:
            old_scene.deleteLater()
        self.inspector.set_document(doc)
        self._follow(doc.problems_changed, self._problems_changed)
        self._follow(doc.dirty_changed, self._update_title)
        self._follow(doc.renamed, self._update_title)
        self._follow(doc.node_added, self._update_empty_hint)
        self._follow(doc.node_removed, self._update_empty_hint)
        self._follow(doc.undo_stack.canUndoChanged, self._update_actions)
        self._follow(doc.undo_stack.canRedoChanged, self._update_actions)
        self._problems_changed(doc.problems)
        self.current_run = None
        self._update_run_label()  # the previous workflow's run is not this one's
        self.event_log.show_run(None, [])
        self.step_details.show_step(None, None)
        self.refresh_history()
        self._update_title()
        self._update_actions()
        self._update_empty_hint()
        QTimer.singleShot(0, self.view.zoom_to_fit)
        self.settings.setValue("last_workflow", doc.name)
        self._show_resumed_run()

    def _runs_resumed(self, run_ids: list[str]) -> None:
        """Interrupted runs (flowdesk was killed or crashed) are carried on: say so, by
        name, and show the run when its workflow is open."""
        described = []
        for run_id in run_ids:
            try:
                name = self.library.run(run_id).workflow_name
            except FlowdeskError:
                continue
            described.append(f"run {run_id[:8]} of '{name}'")
            self.resumed_runs.append(run_id)
        if not described:
            return
        self.notify(f"Resumed {', '.join(described)}: interrupted when flowdesk last stopped"
                    if len(described) < 4 else
                    f"Resumed {len(described)} runs interrupted when flowdesk last stopped: "
                    f"{', '.join(described)}")
        self._show_resumed_run()

    def _show_resumed_run(self) -> None:
        if self.doc is None or self.current_run is not None:
            return
        for run_id in list(self.resumed_runs):
            try:
                if self.library.run(run_id).workflow_name == self.doc.name:
                    self.resumed_runs.remove(run_id)
                    self.show_run(run_id)
                    return
            except FlowdeskError:
                self.resumed_runs.remove(run_id)

    def _connection_feedback(self, reason: str) -> None:
        if reason:
            self.statusBar().showMessage(reason, 2000)

    def _update_empty_hint(self, *_: Any) -> None:
        self.empty_hint.setVisible(self.doc is not None and not self.doc.workflow.nodes)
        self.empty_hint.setGeometry(self.view.rect())

    def _update_title(self, *_: Any) -> None:
        if self.doc is None:
            self.setWindowTitle("flowdesk")
            return
        mark = " •" if self.doc.dirty else ""
        if self.library.save_error:
            mark += " — NOT SAVED"
        version = f" (version {self.doc.version})" if self.doc.version else ""
        self.setWindowTitle(f"{self.doc.name}{version}{mark} — flowdesk")

    def _update_actions(self, *_: Any) -> None:
        has_doc = self.doc is not None
        self.act_undo.setEnabled(has_doc and self.doc.undo_stack.canUndo())
        self.act_redo.setEnabled(has_doc and self.doc.undo_stack.canRedo())
        running = self.current_run is not None and self.controller.is_running(self.current_run)
        status = self._current_status()
        for action in (self.act_run, self.act_save, self.act_layout, self.act_rename,
                       self.act_export, self.act_save_as):
            action.setEnabled(has_doc)
        self.act_cancel.setEnabled(status in (RunStatus.RUNNING, RunStatus.PAUSED) or running)
        self.act_retry.setEnabled(status in (RunStatus.FAILED, RunStatus.CANCELLED)
                                  and not running)
        self.act_retry_original.setEnabled(self.act_retry.isEnabled())
        self.act_run_from.setEnabled(status is not None and status.is_terminal)

    def _current_status(self) -> RunStatus | None:
        if self.current_run is None:
            return None
        try:
            return self.library.run_status(self.current_run)
        except FlowdeskError:
            return None

    def _save_failed(self, message: str) -> None:
        """A failed save is shown at once: title, a lasting status-bar mark, a notice."""
        self.save_label.setText("Not saved: see why" if message else "")
        self.save_label.setToolTip(message)
        self.save_label.setVisible(bool(message))
        if message:
            self.notify(message)
        else:
            self.notify("Saved again: all edits are stored")
        self._update_title()

    def new_workflow(self) -> None:
        try:
            self.open_document(self.library.create())
        except FlowdeskError as exc:
            self.notify(str(exc))

    def open_workflow(self, name: str) -> None:
        try:
            self.open_document(self.library.open(name))
        except FlowdeskError as exc:
            self.notify(str(exc))

    def open_file(self, path: str) -> QMessageBox | None:
        """Open a workflow file. If the library has it already (opened or imported before,
        or a workflow of that name) and the file differs, ask: open the stored workflow, or
        import the file as a copy. Returns the question while it is open."""
        try:
            existing = self.library.match_file(path)
            same = existing is not None and self.library.same_as_stored(path, existing)
        except FlowdeskError as exc:
            self.notify(f"Cannot open {path}: {exc}")
            return None
        if existing is None or same:
            self._open_file_as(path, as_copy=False)
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Open workflow file",
                          f"'{Path(path).name}' is already in your workflows as "
                          f"'{existing}'.", QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("Open the stored workflow, or import the file as a copy?")
        open_existing = box.addButton("Open existing", QMessageBox.ButtonRole.AcceptRole)
        as_copy = box.addButton("Import as copy", QMessageBox.ButtonRole.ActionRole)
        box.setDefaultButton(open_existing)

        def chosen() -> None:
            self.file_question = None
            if box.clickedButton() is open_existing:
                self._open_file_as(path, as_copy=False)
            elif box.clickedButton() is as_copy:
                self._open_file_as(path, as_copy=True)

        box.finished.connect(lambda _r: chosen())
        self.file_question: QMessageBox | None = box
        box.open()
        return box

    def _open_file_as(self, path: str, as_copy: bool) -> None:
        try:
            self.open_document(self.library.open_file(path, as_copy=as_copy))
        except FlowdeskError as exc:
            self.notify(f"Cannot open {path}: {exc}")
            return
        self._notify_import_problems(path)
        recent = [p for p in self.settings.value("recent", [], list) if p != path]
        self.settings.setValue("recent", [path, *recent][:8])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.value("recent", [], list):
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow file", "",
                                              "Workflows (*.json)")
        if path:
            self.open_file(path)

    def save_version(self) -> None:
        if self.doc is not None:
            try:
                version = self.library.save_version()
            except FlowdeskError as exc:
                self.notify(str(exc))
                return
            self.notify(f"Saved '{self.doc.name}' as version {version}")
            self._update_title()

    def rename_dialog(self) -> None:
        if self.doc is None:
            return
        name, ok = QInputDialog.getText(self, "Rename workflow", "Name", text=self.doc.name)
        if ok and name.strip():
            self.rename_workflow(name.strip())

    def rename_workflow(self, name: str) -> None:
        from flowdesk.document.commands import RenameWorkflowCommand

        if self.doc is None or name == self.doc.name:
            return
        if any(w.name == name for w in self.library.names()):
            self.notify(f"A workflow named '{name}' already exists")
            return
        self._push(RenameWorkflowCommand(self.doc, name))
        self.library.save_now()

    def export_dialog(self) -> None:
        if self.doc is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export workflow", f"{self.doc.name}.json",
                                              "Workflows (*.json)")
        if path:
            self.export_to(self.doc.name, path)

    def export_to(self, name: str, path: str) -> Path | None:
        try:
            written = self.library.export(name, path)
        except (FlowdeskError, OSError) as exc:
            self.notify(f"Export failed: {exc}")
            return None
        self.notify(f"Exported '{name}' to {written}")
        return written

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import workflows", "",
                                                "Workflows (*.json)")
        for path in paths[:-1]:
            try:
                self.library.import_file(path)
            except FlowdeskError as exc:
                self.notify(f"Cannot import {path}: {exc}")
        if paths:
            self.open_file(paths[-1])

    def save_as_dialog(self) -> None:
        if self.doc is None:
            return
        name, ok = QInputDialog.getText(self, "Save as", "New workflow name",
                                        text=self.library.unique_name(self.doc.name))
        if ok and name.strip():
            self.save_as(name.strip())

    def save_as(self, name: str) -> bool:
        """Store the open workflow as a new workflow ``name`` and continue in the copy."""
        try:
            doc = self.library.save_as(name)
        except FlowdeskError as exc:
            self.notify(str(exc))
            return False
        self.open_document(doc)
        self.notify(f"Saved as '{name}'; the original is unchanged")
        return True

    # -- dropping workflow files -------------------------------------------------------------
    @staticmethod
    def dropped_workflow_files(mime: QMimeData) -> list[str]:
        return [url.toLocalFile() for url in mime.urls()
                if url.isLocalFile() and url.toLocalFile().lower().endswith(".json")]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.dropped_workflow_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.dropped_workflow_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self.dropped_workflow_files(event.mimeData())
        if not paths:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.open_dropped(paths)

    def open_dropped(self, paths: list[str]) -> None:
        """Files dropped on the window: import all, open the last (asking as Open does)."""
        for path in paths[:-1]:
            try:
                self.library.import_file(path)
            except FlowdeskError as exc:
                self.notify(f"Cannot import {path}: {exc}")
        if paths:
            self.open_file(paths[-1])

    def show_library(self) -> LibraryDialog:
        dialog = LibraryDialog(self)
        dialog.set_workflows(self.library.names())

        def opened(name: str) -> None:
            dialog.accept()
            self.open_workflow(name)

        def renamed(name: str) -> None:
            new, ok = QInputDialog.getText(dialog, "Rename", "Name", text=name)
            if ok and new.strip():
                if self.doc is not None and self.doc.name == name:
                    self.rename_workflow(new.strip())
                else:
                    try:
                        self.library.store.rename_workflow(name, new.strip())
                    except FlowdeskError as exc:
                        self.notify(str(exc))
                        return
                dialog.set_workflows(self.library.names(), highlight=new.strip())

        def duplicated(name: str) -> None:
            copy = self.library.duplicate(name)
            dialog.set_workflows(self.library.names(), highlight=copy)

        def deleted(name: str) -> None:
            self.library.delete(name)
            if self.doc is not None and self.doc.name == name:
                self.doc = None
                remaining = self.library.names()
                if remaining:
                    self.open_workflow(remaining[0].name)
                else:
                    self.new_workflow()
            dialog.set_workflows(self.library.names())
            self.notify(f"Deleted the workflow '{name}'")

        def imported() -> None:
            path, _ = QFileDialog.getOpenFileName(dialog, "Import workflow", "",
                                                  "Workflows (*.json)")
            if path:
                try:
                    self.library.import_file(path)
                    self._notify_import_problems(path)
                except FlowdeskError as exc:
                    self.notify(str(exc))
                dialog.set_workflows(self.library.names())

        def exported(name: str) -> None:
            path, _ = QFileDialog.getSaveFileName(dialog, "Export workflow", f"{name}.json",
                                                  "Workflows (*.json)")
            if path:
                self.export_to(name, path)

        dialog.open_requested.connect(opened)
        dialog.new_requested.connect(lambda: (dialog.accept(), self.new_workflow()))
        dialog.rename_requested.connect(renamed)
        dialog.duplicate_requested.connect(duplicated)
        dialog.delete_requested.connect(deleted)
        dialog.import_requested.connect(imported)
        dialog.export_requested.connect(exported)
        dialog.open()
        return dialog

    def first_start(self) -> None:
        """Open the last workflow, or welcome a new user and offer the examples."""
        last = self.settings.value("last_workflow", "", str)
        names = [w.name for w in self.library.names()]
        if last in names:
            self.open_workflow(last)
            return
        if names:
            self.open_workflow(names[0])
            return
        # nothing is created until the user chooses: examples, or one empty workflow
        dialog = WelcomeDialog(self)

        def add_examples() -> None:
            added = self.library.import_examples(examples_dir())
            if added:
                self.open_workflow(added[0])
                self.notify(f"Added {len(added)} example workflows (File → Workflows…)")
            elif self.doc is None:
                self.new_workflow()

        def start_empty() -> None:
            if self.doc is None:
                self.new_workflow()

        dialog.accepted.connect(add_examples)
        dialog.rejected.connect(start_empty)
        self.welcome = dialog
        dialog.open()

    # -- editing -----------------------------------------------------------------------------
    def _push(self, command: Any) -> None:
        if self.doc is not None:
            self.doc.undo_stack.push(command)

    def _undo(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.undo()

    def _redo(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.redo()

    def _with_actions(self, name: str) -> None:
        if self.actions_ is not None:
            getattr(self.actions_, name)()

    def paste_point(self) -> QPointF:
        """Where a paste lands: under the mouse when it is over the canvas, else the middle
        of the visible canvas."""
        viewport = self.view.viewport()
        local = viewport.mapFromGlobal(QCursor.pos())
        if viewport.rect().contains(local) and viewport.isVisible():
            return self.view.mapToScene(local)
        return self.view.mapToScene(viewport.rect().center())

    def paste_here(self) -> list[str]:
        if self.actions_ is None:
            return []
        return self.actions_.paste(at=self.paste_point())

    def _dropped(self, step_type: str, pos: QPointF) -> None:
        if self.actions_ is not None:
            self.actions_.add_step(step_type, pos)

    def add_step_here(self, step_type: str) -> str | None:
        """Add a step: after the selected step (connected), or in the middle of the view."""
        if self.actions_ is None or self.scene is None:
            return None
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            return self.actions_.add_step(step_type, connect_from=selected[0])
        center = self.view.mapToScene(self.view.viewport().rect().center())
        return self.actions_.add_step(step_type, center)

    def rename_selected_step(self) -> bool:
        """F2: put the cursor in the selected step's Label field, its text selected."""
        nodes = self.scene.selected_node_ids() if self.scene is not None else []
        if len(nodes) != 1:
            self.notify("Select one step to rename it (F2)")
            return False
        if self.inspector.node_id != nodes[0]:
            self.inspector.show_node(nodes[0])
        dock = self.findChild(QDockWidget, "dock_Inspector")
        if dock is not None:
            dock.show()
            dock.raise_()
        field = self.inspector.fields.get("@label")
        if not isinstance(field, QLineEdit):
            return False
        field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        field.selectAll()
        return True

    def add_note(self) -> str | None:
        if self.actions_ is None:
            return None
        return self.actions_.add_note(self.view.mapToScene(self.view.viewport().rect().center()))

    def quick_add(self) -> QuickAddDialog:
        dialog = QuickAddDialog(self.registry.catalog(), self)
        dialog.chosen.connect(self.add_step_here)
        dialog.move(self.view.mapToGlobal(self.view.rect().center()) - dialog.rect().center())
        dialog.open()
        self.quick_add_dialog = dialog
        return dialog

    def auto_layout(self) -> None:
        if self.actions_ is not None:
            self.actions_.auto_layout()
            QTimer.singleShot(0, self.view.zoom_to_fit)

    def _minimap_toggled(self) -> None:
        self.view.minimap.set_wanted(self.act_minimap.isChecked())
        self.settings.setValue("view/minimap", self.act_minimap.isChecked())

    def toggle_theme(self) -> None:
        name = "dark" if self.act_dark.isChecked() else "light"
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        theme.apply_theme(app, name)
        self.settings.setValue("theme", name)
        if self.scene is not None:
            for edge in self.scene.edge_items.values():
                edge.set_problems(edge.problems)
            for item in self.scene.node_items.values():
                item.update()
            for note in self.scene.note_items.values():
                note.update()
            self.scene.update()
        self.view.viewport().update()
        self.view.minimap.viewport().update()  # the overview follows at once too

    def _selection_changed(self) -> None:
        if self.scene is None or not shiboken6.isValid(self.scene):
            return  # the scene is being destroyed (the app is closing)
        nodes = self.scene.selected_node_ids()
        node_id = nodes[0] if len(nodes) == 1 else None
        self.inspector.show_node(node_id)
        self._show_step_details(node_id)

    def _select_node(self, node_id: str) -> None:
        if self.scene is not None and node_id in self.scene.node_items:
            self.scene.select_nodes([node_id])
            self.view.centerOn(self.scene.node_items[node_id])

    def _problems_changed(self, problems: list) -> None:
        self.problems.set_problems(problems)
        self.tabs.setTabText(4, f"Problems ({len(problems)})" if problems else "Problems")

    # -- runs --------------------------------------------------------------------------------
    def run_dialog(self) -> RunInputDialog | None:
        if self.doc is None:
            return None
        if self.doc.problems:
            self.tabs.setCurrentWidget(self.problems)
            self.notify(f"Run refused: the workflow has {len(self.doc.problems)} problem(s); "
                        "see the Problems tab")
            return None
        initial = (self.doc.workflow.model_extra or {}).get("sample_input") or {}
        dialog = RunInputDialog(self.doc.workflow.input_schema, initial, self)
        dialog.accepted.connect(lambda: self.start_run(dialog.value))
        self.input_dialog = dialog
        dialog.open()
        return dialog

    def start_run(self, run_input: Any = None) -> str | None:
        if self.doc is None:
            return None
        self.library.save_now()
        try:
            run_id = self.controller.start_run(self.doc.snapshot(), run_input,
                                               self.doc.version)
        except FlowdeskError as exc:
            self.tabs.setCurrentWidget(self.problems)
            self.notify(f"Run refused: {exc}")
            return None
        self._show(run_id, {n.id: StepView() for n in self.doc.workflow.nodes}, [])
        self.tabs.setCurrentWidget(self.event_log)
        self.refresh_history()
        return run_id

    def _show(self, run_id: str, views: dict[str, StepView], events: list) -> None:
        self.current_run = run_id
        if self.scene is not None:
            self.scene.apply_step_views(views, replace=True)
        self.event_log.show_run(run_id, events)
        self._selection_changed()
        self._update_run_label()
        self._update_actions()

    def show_run(self, run_id: str) -> None:
        """Show a past run on the canvas: its badges, events and outputs."""
        run = self.library.run(run_id)
        self._show(run_id, StepView.from_snapshot(run), self.library.events(run_id))

    def _open_run_of_any_workflow(self, run_id: str) -> None:
        run = self.library.run(run_id)
        if self.doc is None or self.doc.name != run.workflow_name:
            try:
                self.open_workflow(run.workflow_name)
            except FlowdeskError:
                return
        self.show_run(run_id)

    def cancel_run(self) -> None:
        if self.current_run is not None:
            self.controller.cancel(self.current_run)

    def retry_run(self, definition: str = "current") -> None:
        """Retry the shown run; "current" runs the workflow as edited (saved first),
        "original" the definition the run ran. The event log says which was used."""
        if self.current_run is not None:
            self.library.save_now()
            self.controller.retry(self.current_run, definition=definition)
            self.notify("Retrying with the current workflow" if definition == "current"
                        else "Retrying with the original workflow (edits since are not used)")

    def run_from_selected(self) -> None:
        if self.current_run is None or self.scene is None:
            self.notify("Run the workflow once first; then you can run it again from a step")
            return
        nodes = self.scene.selected_node_ids()
        if len(nodes) != 1:
            self.notify("Select the one step to run from")
            return
        self.library.save_now()
        self.controller.retry(self.current_run, from_step=nodes[0])
        self.notify(f"Running again from '{nodes[0]}' with the current workflow")

    def _steps_updated(self, run_id: str, views: dict[str, StepView]) -> None:
        if run_id != self.current_run or self.scene is None:
            return
        self.scene.apply_step_views(views)
        selected = self.scene.selected_node_ids()
        if len(selected) == 1 and selected[0] in views:
            view = views[selected[0]]
            if view.status is StepStatus.RUNNING and "text" in view.extra:
                self.step_details.show_streaming(selected[0], view.extra["text"])
            else:
                self._show_step_details(selected[0])

    def _run_status_changed(self, run_id: str, status: str) -> None:
        if run_id == self.current_run:
            self._update_run_label()
            self._update_actions()
            if RunStatus(status) is not RunStatus.RUNNING:
                self._selection_changed()
        if run_id == self.current_run or self.history.has_run(run_id):
            # any run listed in History, shown or not (e.g. one approved in the inbox)
            self.refresh_history()

    def _update_run_label(self) -> None:
        status = self._current_status()
        if self.current_run is None or status is None:
            self.status_label.setText("")
        else:
            self.status_label.setText(f"run {self.current_run[:8]}: {status.value}")

    def _show_step_details(self, node_id: str | None) -> None:
        if node_id is None or self.current_run is None:
            self.step_details.show_step(node_id, None)
            return
        self.step_details.show_step(node_id, self.library.step_run(self.current_run, node_id))

    def refresh_history(self) -> None:
        if self.doc is not None:
            self.history.set_runs(self.library.runs(self.doc.name))

    def show_approvals(self) -> None:
        """Bring the Approvals tab forward, ready to type a comment on the first approval."""
        self.refresh_approvals()
        self.tabs.setCurrentWidget(self.approvals)
        dock = self.tabs.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()
        self.approvals.focus_first()

    def refresh_approvals(self) -> None:
        waiting = self.library.waiting()
        self.approvals.set_waiting(waiting)
        approvals = sum(1 for w in waiting if w.get("kind") == "approval")
        self.tabs.setTabText(3, f"Approvals ({approvals})" if approvals else "Approvals")

    def _decide(self, run_id: str, step_id: str, approved: bool, comment: str,
                data: Any) -> None:
        try:
            self.controller.decide(run_id, step_id, approved=approved, comment=comment,
                                   data=data)
        except FlowdeskError as exc:
            self.notify(str(exc))
        self.refresh_approvals()

    def _send_event(self, name: str, key: Any, data: Any) -> None:
        run_ids = self.controller.send_event(name, key, data)
        self.notify(f"Event '{name}' woke {len(run_ids)} run(s)" if run_ids else
                    f"No run waits for '{name}'; it is kept for the first that will")

    def _notify_import_problems(self, path: str) -> None:
        problems = self.library.import_problems
        if problems:
            self.notify(f"{path}: converted from n8n with {len(problems)} problem(s) to check "
                        "(each is in a note next to its step)")

    def notify(self, text: str) -> None:
        self.last_notice = text
        log.info("%s", text)
        self.notice.emit(text)

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.scene is not None and shiboken6.isValid(self.scene):
            self.scene.setFocusItem(None)  # a note being typed in stores its text
        if not self.library.save_now():  # autosaved edits are never lost silently
            answer = QMessageBox.warning(
                self, "flowdesk", f"{self.library.save_error}\n\nClose anyway and lose "
                "these edits?", QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        self.save_layout()
        self.settings.sync()
        self._release_document()
        super().closeEvent(event)
        self.closed.emit()
