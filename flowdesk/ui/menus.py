"""The window's actions: every QAction with its text, shortcuts and tip, the menus (File,
Edit, View, Run), the toolbar, and which actions are enabled.

``WindowActions`` builds them once and triggers what the library controller, the run
presenter and the window (``MenuTarget``: editing, view) do; it holds no state of its own
beyond the checkable Minimap and Dark theme marks. Single-key shortcuts (F, Delete, Tab)
act on the canvas only, not while typing in a field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from flowdesk.document.document import WorkflowDocument
from flowdesk.model.status import RunStatus
from flowdesk.ui import theme
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.view import WorkflowView
from flowdesk.ui.library_controller import LibraryController
from flowdesk.ui.run_presenter import RunPresenter
from flowdesk.ui.step_testing import StepTesting

__all__ = ["MenuTarget", "WindowActions"]

Key = QKeySequence.StandardKey | str
_Std = QKeySequence.StandardKey


class MenuTarget(Protocol):
    """The window's editing and view commands the menus trigger."""

    def close(self) -> bool: ...
    def undo(self) -> None: ...
    def redo(self) -> None: ...
    def on_canvas(self, name: str) -> None: ...
    def paste_here(self) -> object: ...
    def rename_selected_step(self) -> object: ...
    def quick_add(self) -> object: ...
    def add_note(self) -> object: ...
    def auto_layout(self) -> None: ...
    def toggle_minimap(self) -> None: ...
    def toggle_theme(self) -> None: ...
    def run_dialog(self) -> object: ...
    def versions_dialog(self) -> object: ...


class WindowActions:
    def __init__(self, window: QMainWindow, view: WorkflowView, target: MenuTarget,
                 files: LibraryController, runs: RunPresenter, settings: QSettings,
                 testing: StepTesting) -> None:
        self._window = window
        self._view = view
        bar = window.menuBar()
        file_menu, edit_menu = bar.addMenu("&File"), bar.addMenu("&Edit")
        view_menu, run_menu = bar.addMenu("&View"), bar.addMenu("&Run")
        a = self._action
        t = target
        self.act_new = a("New workflow", files.new_workflow, _Std.New, file_menu)
        self.act_open = a("Workflows…", files.show_library, _Std.Open, file_menu,
                          tip="Open, rename, duplicate or delete workflows")
        self.act_open_file = a("Open file…", files.open_file_dialog, "Ctrl+Shift+O", file_menu)
        file_menu.addMenu(files.recent_menu)
        self.act_open_db = a("Open data&base…", files.open_database_dialog, None, file_menu,
                             tip="Open another database (a file, or a team's PostgreSQL) "
                                 "in a new window")
        self.act_import = a("Import…", files.import_dialog, "Ctrl+I", file_menu,
                            tip="Add workflow files to your workflows")
        file_menu.addSeparator()
        self.act_save = a("Publish…", files.save_version, _Std.Save, file_menu,
                          tip="Make this draft the live version (what webhooks, schedules, "
                              "the API and `flowdesk run` use)")
        self.act_versions = a("Versions…", t.versions_dialog, "Ctrl+Shift+H",
                              file_menu, tip="Compare with and restore published versions")
        self.act_save_as = a("Save as…", files.save_as_dialog, _Std.SaveAs, file_menu,
                             tip="Continue in a copy of this workflow under a new name")
        self.act_rename = a("Rename…", files.rename_dialog, None, file_menu)
        self.act_export = a("Export…", files.export_dialog, "Ctrl+E", file_menu,
                            tip="Write this workflow to a .json file")
        file_menu.addSeparator()
        self.act_quit = a("Quit", t.close, _Std.Quit, file_menu)

        self.act_undo = a("Undo", t.undo, _Std.Undo, edit_menu)
        self.act_redo = a("Redo", t.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], edit_menu)
        edit_menu.addSeparator()
        self.act_cut = a("Cut", lambda: t.on_canvas("cut"), "Ctrl+X", edit_menu, True)
        self.act_copy = a("Copy", lambda: t.on_canvas("copy"), "Ctrl+C", edit_menu, True)
        self.act_paste = a("Paste", t.paste_here, "Ctrl+V", edit_menu, True)
        self.act_duplicate = a("Duplicate", lambda: t.on_canvas("duplicate"), "Ctrl+D",
                               edit_menu, True)
        self.act_delete = a("Delete", lambda: t.on_canvas("delete_selected"),
                            [_Std.Delete, "Backspace"], edit_menu, True)
        self.act_select_all = a("Select all", lambda: t.on_canvas("select_all"), "Ctrl+A",
                                edit_menu, True)
        self.act_rename_step = a("Rename step", t.rename_selected_step, "F2", edit_menu,
                                 tip="Edit the selected step's label in the inspector")
        self.act_quick_add = a("Add step…", t.quick_add, ["Tab", "Ctrl+K"], edit_menu, True)
        self.act_note = a("Add sticky note", t.add_note, "Shift+N", edit_menu, True)

        self.act_fit = a("Zoom to fit", view.zoom_to_fit, "F", view_menu, True)
        self.act_zoom_in = a("Zoom in", lambda: view.set_zoom(view.zoom * 1.2, True),
                             ["Ctrl+=", "Ctrl++"], view_menu)
        self.act_zoom_out = a("Zoom out", lambda: view.set_zoom(view.zoom / 1.2, True),
                              "Ctrl+-", view_menu)
        self.act_actual_size = a("Actual size", lambda: view.set_zoom(1.0, True), "Ctrl+0",
                                 view_menu)
        self.act_layout = a("Auto-layout", t.auto_layout, "Ctrl+L", view_menu,
                            tip="Arrange the steps in layers, left to right")
        self.act_minimap = a("Minimap", t.toggle_minimap, "Ctrl+M", view_menu,
                             tip="Show or hide the overview in the canvas corner")
        self.act_minimap.setCheckable(True)
        self.act_minimap.setChecked(bool(settings.value("view/minimap", True, bool)))
        view.minimap.set_wanted(self.act_minimap.isChecked())
        self.act_dark = a("Dark theme", t.toggle_theme, None, view_menu)
        self.act_dark.setCheckable(True)
        self.act_dark.setChecked(theme.current_theme().name == "dark")

        self.act_run = a("Run…", t.run_dialog, ["Ctrl+Return", "F5"], run_menu,
                         tip="Run the workflow")
        self.act_cancel = a("Cancel run", runs.cancel_run, None, run_menu)
        self.act_retry = a("Retry with current workflow", runs.retry_run, None, run_menu,
                           tip="Run the failed steps again, with the workflow as it is now")
        self.act_retry_original = a(
            "Retry with original workflow", lambda: runs.retry_run(definition="original"),
            None, run_menu, tip="Run the failed steps again, as the run first ran them")
        self.act_run_from = a("Run from selected step", runs.run_from_selected,
                              "Ctrl+Shift+R", run_menu)
        self.act_run_to = a("Run to selected step", testing.run_to_selected,
                            ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"], run_menu,
                            tip="Run the selected step and the steps upstream of it only")
        self.act_test_step = a("Test selected step", testing.test_selected, "Ctrl+Shift+T",
                               run_menu, tip="Run only the selected step, on pinned or "
                                             "last-run upstream outputs (no run recorded)")
        self.act_pin = a("Pin output of selected step…", testing.edit_selected_pin, None,
                         run_menu, tip="Edit the selected step's pinned output as JSON")
        run_menu.addSeparator()
        self.act_show_approvals = a("Approvals inbox", runs.show_approvals, "Ctrl+Shift+A",
                                    run_menu, tip="What waits for a decision or an event")
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._canvas_menu)
        self.canvas_menu: QMenu | None = None
        toolbar = window.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        for action in (self.act_open, self.act_save, None, self.act_undo, self.act_redo, None,
                       self.act_run, self.act_cancel, self.act_retry, None, self.act_layout,
                       self.act_fit):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)

    def _canvas_menu(self, pos: QPoint) -> QMenu:
        """Right-click on the canvas: the step under the mouse is selected, then what can
        be done with it."""
        scene = self._view.scene()
        if isinstance(scene, WorkflowScene):
            item = scene.node_at(self._view.mapToScene(pos))
            if item is not None and not item.isSelected():
                scene.select_nodes([item.node_id])
        menu = QMenu(self._view)
        for action in (self.act_test_step, self.act_pin, self.act_run_to, self.act_run_from,
                       None, self.act_copy, self.act_duplicate, self.act_delete):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(self._view.viewport().mapToGlobal(pos))
        self.canvas_menu = menu
        return menu

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: Key | Sequence[Key] | None = None, menu: QMenu | None = None,
                canvas_only: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            keys = [shortcut] if isinstance(shortcut, (str, QKeySequence.StandardKey)) \
                else list(shortcut)
            action.setShortcuts([QKeySequence(k) for k in keys])
        if canvas_only:
            # single keys (F, Delete, Tab) act on the canvas, not while typing in a field
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._view.addAction(action)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        if menu is not None:
            menu.addAction(action)
        return action

    def update(self, doc: WorkflowDocument | None, status: RunStatus | None,
               running: bool) -> None:
        """Enable what applies to the open document and the shown run (its ``status`` as
        the run's events told; ``running``: this process is executing it)."""
        self.act_undo.setEnabled(doc is not None and doc.undo_stack.canUndo())
        self.act_redo.setEnabled(doc is not None and doc.undo_stack.canRedo())
        for action in (self.act_run, self.act_save, self.act_layout, self.act_rename,
                       self.act_export, self.act_save_as, self.act_run_to,
                       self.act_test_step, self.act_pin):
            action.setEnabled(doc is not None)
        self.act_cancel.setEnabled(status in (RunStatus.RUNNING, RunStatus.PAUSED) or running)
        self.act_retry.setEnabled(status in (RunStatus.FAILED, RunStatus.CANCELLED)
                                  and not running)
        self.act_retry_original.setEnabled(self.act_retry.isEnabled())
        self.act_run_from.setEnabled(status is not None and status.is_terminal)
