"""The main window: palette · canvas · inspector, with the run panel below.

A small face that composes the parts (STYLE.md rule 16): ``WindowActions`` (menus, toolbar,
shortcuts), ``LibraryController`` (open/new/save/rename/import/export, recent files, dropped
files, the Workflows dialog), ``RunPresenter`` (badges, run label, History, the Step tab and
the inbox, fed by the RunController's events), ``Notifier``/``SaveIndicator`` (notices) and
``window_layout`` (docks, sizes kept between starts), ``StepTesting`` (Test step, pins, Run
to here). The window itself follows the open
document: the scene, the canvas edits (through ``CanvasActions``, each one undo command),
selection, title and empty-canvas hint. It holds no workflow state of its own beyond which
workflow is open; which run is shown is the presenter's.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QPointF, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import (
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QResizeEvent,
)
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QLineEdit, QMainWindow, QMessageBox

from flowdesk.document.document import WorkflowDocument
from flowdesk.document.library import WorkflowLibrary
from flowdesk.document.run_controller import RunController
from flowdesk.document.versions import WorkflowVersions
from flowdesk.model.errors import Problem
from flowdesk.resources import icons_dir
from flowdesk.ui import theme
from flowdesk.ui.actions import CanvasActions
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.view import WorkflowView
from flowdesk.ui.dialogs import RunInputDialog, WelcomeDialog
from flowdesk.ui.library_controller import LibraryController
from flowdesk.ui.menus import WindowActions
from flowdesk.ui.mime import workflow_files
from flowdesk.ui.notifications import Notifier, SaveIndicator, database_label
from flowdesk.ui.panels.approvals import ApprovalsInbox
from flowdesk.ui.panels.inspector import Inspector
from flowdesk.ui.panels.palette import Palette
from flowdesk.ui.panels.run_panel import EventLog, HistoryTable, ProblemsList, StepDetails
from flowdesk.ui.quick_add import QuickAddDialog
from flowdesk.ui.run_presenter import RunPresenter, RunWidgets
from flowdesk.ui.step_testing import StepTesting
from flowdesk.ui.versions_dialog import VersionsDialog
from flowdesk.ui.window_layout import (
    RunTabs,
    add_dock,
    app_settings,
    restore_layout,
    save_layout,
    scrolling,
)

__all__ = ["MainWindow", "app_settings"]

PROBLEMS_TAB = 4
_LEFT, _RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea


class MainWindow(QMainWindow):
    closed = Signal()  # the person closed the window (after its work was saved)

    def __init__(self, library: WorkflowLibrary, controller: RunController) -> None:
        super().__init__()
        self.library = library
        self.controller = controller
        self.registry = library.registry
        self.doc: WorkflowDocument | None = None
        self.scene: WorkflowScene | None = None
        self.canvas_actions: CanvasActions | None = None
        self._doc_connections: list[tuple[SignalInstance, Any]] = []
        self._title_version = ""  # " (version 2)": see update_title
        self._where = database_label(library.store.url)  # "team.db — ": another database
        self.versions = WorkflowVersions(library.store)
        self.settings = app_settings()
        self.setWindowIcon(QIcon(str(icons_dir() / "flowdesk.svg")))

        self.view = WorkflowView()
        self.view.step_dropped.connect(self._dropped)
        self.setCentralWidget(self.view)
        self.empty_hint = QLabel("Drag a step from the palette to start", self.view)
        self.empty_hint.setProperty("role", "hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        self.step_palette = Palette(self.registry.catalog())
        self.step_palette.step_activated.connect(self.add_step_here)
        self.inspector = Inspector(self._push)
        self.event_log = EventLog()
        self.step_details = StepDetails()
        self.history = HistoryTable()
        self.approvals = ApprovalsInbox()
        self.problems = ProblemsList()
        self.problems.problem_activated.connect(self._select_node)
        self.tabs = RunTabs(self)
        for widget, title in ((self.event_log, "Events"), (scrolling(self.step_details), "Step"),
                              (self.history, "History"), (scrolling(self.approvals), "Approvals"),
                              (self.problems, "Problems")):
            self.tabs.addTab(widget, title)
        add_dock(self, self.step_palette, "Steps", _LEFT, 240)
        add_dock(self, self.inspector, "Inspector", _RIGHT, 360)
        add_dock(self, self.tabs, "Run", Qt.DockWidgetArea.BottomDockWidgetArea, 260)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.notifier = Notifier(self.statusBar(), self)
        self.saving = SaveIndicator(library, self.statusBar(), self.notifier, self.update_title)
        self.save_label = self.saving.label

        self.setAcceptDrops(True)
        self.step_palette.search.setAcceptDrops(False)  # a dropped file opens, it is not text
        self.files = LibraryController(library, self, self, self.settings)
        self.view.file_dropped.connect(lambda path: self.files.open_dropped([path]))
        self.runs = RunPresenter(
            library, controller, self,
            RunWidgets(self.tabs, self.event_log, self.step_details, self.history,
                       self.approvals, self.problems, self.status_label), self,
            state_changed=self._update_actions, reselect=self._selection_changed,
            open_workflow=self.files.open_workflow)
        controller.error_raised.connect(self.notify)
        self.testing = StepTesting(controller, self, self.tabs, self.step_details, self,
                                   selected=self._selected, push=self._push,
                                   run_dialog=lambda step: self.run_dialog(up_to=step))
        self.inspector.step_bar = self.testing.step_bar
        self.menus = WindowActions(self, self.view, self, self.files, self.runs, self.settings,
                                   self.testing)
        self._update_actions()
        self.runs.refresh_approvals()
        self.update_title()
        restore_layout(self, self.settings)

    # -- the face tests, the app and the parts use ------------------------------------------
    @property
    def current_run(self) -> str | None:
        return self.runs.current_run

    @property
    def last_notice(self) -> str:
        return self.notifier.last_notice

    @property
    def welcome(self) -> WelcomeDialog | None:
        return self.files.welcome

    def notify(self, text: str) -> None:
        self.notifier.notify(text)

    def new_workflow(self) -> None:
        self.files.new_workflow()

    def open_workflow(self, name: str) -> None:
        self.files.open_workflow(name)

    def open_file(self, path: str) -> QMessageBox | None:
        return self.files.open_file(path)

    def first_start(self) -> None:
        self.files.first_start()

    def start_run(self, run_input: Any = None) -> str | None:
        return self.runs.start_run(run_input)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.empty_hint.setGeometry(self.view.rect())

    # -- the open document -------------------------------------------------------------------
    def _follow(self, signal: SignalInstance, slot: Any) -> None:
        self._doc_connections.append((signal, slot))
        signal.connect(slot)

    def _release_document(self) -> None:
        """Stop following the open document and its scene (before switching or closing)."""
        for signal, slot in self._doc_connections:
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
        self.canvas_actions = CanvasActions(doc, self.scene)
        self.scene.connect_requested.connect(self.canvas_actions.connect)
        self.scene.nodes_moved.connect(self.canvas_actions.move)
        self.scene.note_moved.connect(self.canvas_actions.move_note)
        self.scene.note_edited.connect(self.canvas_actions.edit_note)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.connection_feedback.connect(self._connection_feedback)
        self.view.setScene(self.scene)
        if old_scene is not None:
            old_scene.deleteLater()
        self.inspector.set_document(doc)
        self.testing.document_opened(doc)
        self._follow(doc.problems_changed, self._problems_changed)
        self._follow(doc.dirty_changed, self.update_title)
        self._follow(doc.changed, self._title_marks)
        self._follow(doc.renamed, self.update_title)
        self._follow(doc.node_added, self._update_empty_hint)
        self._follow(doc.node_removed, self._update_empty_hint)
        self._follow(doc.undo_stack.canUndoChanged, self._update_actions)
        self._follow(doc.undo_stack.canRedoChanged, self._update_actions)
        self._problems_changed(doc.problems)
        self.update_title()
        self._update_empty_hint()
        QTimer.singleShot(0, self.view.zoom_to_fit)
        self.settings.setValue("last_workflow", doc.name)
        self.runs.document_opened(self.scene)
        self._update_actions()

    def versions_dialog(self) -> VersionsDialog | None:
        """File → Versions…: compare with and restore published versions."""
        if self.doc is None or self.scene is None:
            return None
        dialog = VersionsDialog(self.versions, self.doc, self.scene, self)
        dialog.restored.connect(lambda v: self.notify(
            f"Restored version {v} in the editor (Ctrl+Z undoes it; Publish makes it live)"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def update_title(self, *_: Any) -> None:
        """"Name (version 2)", or "(draft differs from live version 2)" once saved edits are
        not published; _title_marks adds " •" while an edit is not written yet."""
        doc = self.doc
        live = doc.version if doc is not None else None
        differs = doc is not None and bool(live) and self.versions.draft_differs(doc)
        self._title_version = "" if not live else (
            f" (draft differs from live version {live})" if differs else f" (version {live})")
        self._title_marks()

    def _title_marks(self, *_: Any) -> None:
        """Cheap, so it follows every edit (update_title compares with the live version)."""
        if self.doc is None:
            return self.setWindowTitle("flowdesk")
        mark = (" •" if self.library.has_pending_save() else "") + (
            " — NOT SAVED" if self.library.save_error else "")
        self.setWindowTitle(f"{self.doc.name}{self._title_version}{mark} — {self._where}flowdesk")

    def _update_actions(self, *_: Any) -> None:
        run = self.runs.current_run
        self.menus.update(self.doc, self.runs.status(),
                          run is not None and self.controller.is_running(run))

    def _update_empty_hint(self, *_: Any) -> None:
        self.empty_hint.setVisible(self.doc is not None and not self.doc.workflow.nodes)
        self.empty_hint.setGeometry(self.view.rect())

    def _connection_feedback(self, reason: str) -> None:
        if reason:
            self.statusBar().showMessage(reason, 2000)

    def _selection_changed(self) -> None:
        if self.scene is None or not shiboken6.isValid(self.scene):
            return  # the scene is being destroyed (the app is closing)
        nodes = self.scene.selected_node_ids()
        node_id = nodes[0] if len(nodes) == 1 else None
        self.inspector.show_node(node_id)
        self.runs.show_step_details(node_id)

    def _selected(self) -> list[str]:
        return self.scene.selected_node_ids() if self.scene is not None else []

    def _select_node(self, node_id: str) -> None:
        if self.scene is not None and node_id in self.scene.node_items:
            self.scene.select_nodes([node_id])
            self.view.centerOn(self.scene.node_items[node_id])

    def _problems_changed(self, problems: list[Problem]) -> None:
        self.problems.set_problems(problems)
        self.tabs.setTabText(PROBLEMS_TAB,
                             f"Problems ({len(problems)})" if problems else "Problems")

    # -- editing (MenuTarget) ----------------------------------------------------------------
    def _push(self, command: Any) -> None:
        if self.doc is not None:
            self.doc.undo_stack.push(command)

    def undo(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.undo()

    def redo(self) -> None:
        if self.doc is not None:
            self.doc.undo_stack.redo()

    def on_canvas(self, name: str) -> None:
        """Cut, copy, duplicate, delete, select all: a CanvasActions method by name."""
        if self.canvas_actions is not None:
            getattr(self.canvas_actions, name)()

    def paste_point(self) -> QPointF:
        """Where a paste lands: under the mouse when it is over the canvas, else the middle
        of the visible canvas."""
        viewport = self.view.viewport()
        local = viewport.mapFromGlobal(QCursor.pos())
        if viewport.rect().contains(local) and viewport.isVisible():
            return self.view.mapToScene(local)
        return self.view.mapToScene(viewport.rect().center())

    def paste_here(self) -> list[str]:
        if self.canvas_actions is None:
            return []
        return self.canvas_actions.paste(at=self.paste_point())

    def _dropped(self, step_type: str, pos: QPointF) -> None:
        if self.canvas_actions is not None:
            self.canvas_actions.add_step(step_type, pos)

    def _view_center(self) -> QPointF:
        return self.view.mapToScene(self.view.viewport().rect().center())

    def add_step_here(self, step_type: str) -> str | None:
        """Add a step: after the selected step (connected), or in the middle of the view."""
        if self.canvas_actions is None or self.scene is None:
            return None
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            return self.canvas_actions.add_step(step_type, connect_from=selected[0])
        return self.canvas_actions.add_step(step_type, self._view_center(), avoid_overlap=True)

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
        if self.canvas_actions is None:
            return None
        return self.canvas_actions.add_note(self._view_center())

    def quick_add(self) -> QuickAddDialog:
        dialog = QuickAddDialog(self.registry.catalog(), self)
        dialog.chosen.connect(self.add_step_here)
        dialog.move(self.view.mapToGlobal(self.view.rect().center()) - dialog.rect().center())
        dialog.open()
        self.quick_add_dialog = dialog
        return dialog

    def auto_layout(self) -> None:
        if self.canvas_actions is not None:
            self.canvas_actions.auto_layout()
            QTimer.singleShot(0, self.view.zoom_to_fit)

    def toggle_minimap(self) -> None:
        wanted = self.menus.act_minimap.isChecked()
        self.view.minimap.set_wanted(wanted)
        self.settings.setValue("view/minimap", wanted)

    def toggle_theme(self) -> None:
        name = "dark" if self.menus.act_dark.isChecked() else "light"
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

    def run_dialog(self, up_to: str | None = None) -> RunInputDialog | None:
        if self.doc is None:
            return None
        if self.doc.problems:
            self.tabs.setCurrentWidget(self.problems)
            self.notify(f"Run refused: the workflow has {len(self.doc.problems)} problem(s); "
                        "see the Problems tab")
            return None
        initial = (self.doc.workflow.model_extra or {}).get("sample_input") or {}
        dialog = RunInputDialog(self.doc.workflow.input_schema, initial, self, up_to)
        dialog.accepted.connect(lambda: self.runs.start_run(dialog.value, up_to))
        self.input_dialog = dialog
        dialog.open()
        return dialog

    # -- workflow files dropped on the window ------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if workflow_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if workflow_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = workflow_files(event.mimeData())
        if not paths:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.files.open_dropped(paths)

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.scene is not None and shiboken6.isValid(self.scene):
            self.scene.setFocusItem(None)  # type: ignore[arg-type]  # None clears the focus
        if not self.library.save_now():  # autosaved edits are never lost silently
            answer = QMessageBox.warning(
                self, "flowdesk", f"{self.library.save_error}\n\nClose anyway and lose "
                "these edits?", QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        save_layout(self, self.settings)
        self.settings.sync()
        self._release_document()
        super().closeEvent(event)
        self.closed.emit()

