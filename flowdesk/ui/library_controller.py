"""The library controller: what the File menu, the Workflows dialog and dropped files do.

New, open (by name or file, asking when a file is already stored), recent files, save a
version, rename, Save as, import, export, delete, the first start (last workflow, or the
welcome with the examples). Every operation goes through ``WorkflowLibrary`` and ends in the
window (``WindowShell.open_document``); a failure is a notice naming what failed, never a
silent no-op. It keeps which dialog is open (``file_question``, ``welcome``) for callers that
want to answer it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

from flowdesk.document.commands import RenameWorkflowCommand
from flowdesk.document.library import WorkflowLibrary
from flowdesk.model.errors import FlowdeskError
from flowdesk.resources import examples_dir
from flowdesk.ui.dialogs import LibraryDialog, WelcomeDialog
from flowdesk.ui.face import WindowShell
from flowdesk.ui.open_database import ask_and_open_database
from flowdesk.ui.splash import close_splash

__all__ = ["RECENT_LIMIT", "LibraryController"]

RECENT_LIMIT = 8
_FILTER = "Workflows (*.json)"


class LibraryController:
    def __init__(self, library: WorkflowLibrary, shell: WindowShell, parent: QWidget,
                 settings: QSettings) -> None:
        self.library = library
        self.shell = shell
        self.parent = parent
        self.settings = settings
        self.recent_menu = QMenu("Recent files", parent)
        self.file_question: QMessageBox | None = None
        self.welcome: WelcomeDialog | None = None
        self.refresh_recent()

    # -- opening -----------------------------------------------------------------------------
    def new_workflow(self) -> None:
        try:
            self.shell.open_document(self.library.create())
        except FlowdeskError as exc:
            self.shell.notify(str(exc))

    def open_workflow(self, name: str) -> None:
        try:
            self.shell.open_document(self.library.open(name))
        except FlowdeskError as exc:
            self.shell.notify(str(exc))

    def open_file(self, path: str) -> QMessageBox | None:
        """Open a workflow file. If the library has it already (opened or imported before,
        or a workflow of that name) and the file differs, ask: open the stored workflow, or
        import the file as a copy. Returns the question while it is open."""
        try:
            existing = self.library.match_file(path)
            same = existing is not None and self.library.same_as_stored(path, existing)
        except FlowdeskError as exc:
            self.shell.notify(f"Cannot open {path}: {exc}")
            return None
        if existing is None or same:
            self._open_file_as(path, as_copy=False)
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Open workflow file",
                          f"'{Path(path).name}' is already in your workflows as "
                          f"'{existing}'.", QMessageBox.StandardButton.Cancel, self.parent)
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
        self.file_question = box
        close_splash()  # asked at start-up (`flowdesk FILE.json`): not behind the splash
        box.open()
        return box

    def _open_file_as(self, path: str, as_copy: bool) -> None:
        try:
            self.shell.open_document(self.library.open_file(path, as_copy=as_copy))
        except FlowdeskError as exc:
            self.shell.notify(f"Cannot open {path}: {exc}")
            return
        self._notify_import_problems(path)
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", [path, *recent][:RECENT_LIMIT])
        self.refresh_recent()

    def _notify_import_problems(self, path: str) -> None:
        problems = self.library.import_problems
        if problems:
            self.shell.notify(f"{path}: converted from n8n with {len(problems)} problem(s) to "
                              "check (each is in a note next to its step)")

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [], list)
        return [str(p) for p in value] if isinstance(value, list) else []

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open workflow file", "", _FILTER)
        if path:
            self.open_file(path)

    def open_dropped(self, paths: list[str]) -> None:
        """Files dropped on the window (or chosen to import): import all, open the last
        (asking as Open does)."""
        for path in paths[:-1]:
            try:
                self.library.import_file(path)
            except FlowdeskError as exc:
                self.shell.notify(f"Cannot import {path}: {exc}")
        if paths:
            self.open_file(paths[-1])

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, "Import workflows", "", _FILTER)
        self.open_dropped(paths)

    # -- saving, renaming, exporting ---------------------------------------------------------
    def save_version(self, note: str | None = None) -> None:
        """Publish (Ctrl+S): asks for an optional note unless one is given."""
        doc = self.shell.doc
        if doc is None:
            return
        if note is None:
            note, ok = QInputDialog.getText(self.parent, "Publish",
                                            "Note for this version (optional)")
            if not ok:
                return
        before = doc.version
        try:
            version = self.library.save_version(note.strip() or None)
        except FlowdeskError as exc:
            self.shell.notify(str(exc))
            return
        self.shell.notify(f"Published '{doc.name}' as version {version}" if version != before
                          else f"'{doc.name}' is unchanged: version {version} stays live")
        self.shell.update_title()

    def open_database_dialog(self) -> int | None:
        """File → Open database…: another database in a new window (its pid)."""
        pid = ask_and_open_database(self.parent, self.library.store.url)
        if pid is not None:
            self.shell.notify("Opening the database in a new window")
        return pid

    def rename_dialog(self) -> None:
        if self.shell.doc is None:
            return
        name, ok = QInputDialog.getText(self.parent, "Rename workflow", "Name",
                                        text=self.shell.doc.name)
        if ok and name.strip():
            self.rename_workflow(name.strip())

    def rename_workflow(self, name: str) -> None:
        doc = self.shell.doc
        if doc is None or name == doc.name:
            return
        if any(w.name == name for w in self.library.workflows()):
            self.shell.notify(f"A workflow named '{name}' already exists")
            return
        doc.undo_stack.push(RenameWorkflowCommand(doc, name))
        self.library.save_now()

    def export_dialog(self) -> None:
        if self.shell.doc is None:
            return
        name = self.shell.doc.name
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export workflow", f"{name}.json",
                                              _FILTER)
        if path:
            self.export_to(name, path)

    def export_to(self, name: str, path: str) -> Path | None:
        try:
            written = self.library.export(name, path)
        except (FlowdeskError, OSError) as exc:
            self.shell.notify(f"Export failed: {exc}")
            return None
        self.shell.notify(f"Exported '{name}' to {written}")
        return written

    def save_as_dialog(self) -> None:
        if self.shell.doc is None:
            return
        name, ok = QInputDialog.getText(self.parent, "Save as", "New workflow name",
                                        text=self.library.unique_name(self.shell.doc.name))
        if ok and name.strip():
            self.save_as(name.strip())

    def save_as(self, name: str) -> bool:
        """Store the open workflow as a new workflow ``name`` and continue in the copy."""
        try:
            doc = self.library.save_as(name)
        except FlowdeskError as exc:
            self.shell.notify(str(exc))
            return False
        self.shell.open_document(doc)
        self.shell.notify(f"Saved as '{name}'; the original is unchanged")
        return True

    # -- the Workflows dialog ----------------------------------------------------------------
    def show_library(self) -> LibraryDialog:
        dialog = LibraryDialog(self.parent)
        dialog.set_workflows(self.library.workflows())

        def opened(name: str) -> None:
            dialog.accept()
            self.open_workflow(name)

        def created() -> None:
            dialog.accept()
            self.new_workflow()

        def renamed(name: str) -> None:
            new, ok = QInputDialog.getText(dialog, "Rename", "Name", text=name)
            if not (ok and new.strip()):
                return
            if self.shell.doc is not None and self.shell.doc.name == name:
                self.rename_workflow(new.strip())
            else:
                try:
                    self.library.store.rename_workflow(name, new.strip())
                except FlowdeskError as exc:
                    self.shell.notify(str(exc))
                    return
            dialog.set_workflows(self.library.workflows(), highlight=new.strip())

        def duplicated(name: str) -> None:
            copy = self.library.duplicate(name)
            dialog.set_workflows(self.library.workflows(), highlight=copy)

        def deleted(name: str) -> None:
            self.library.delete(name)
            if self.shell.doc is not None and self.shell.doc.name == name:
                self.shell.doc = None
                remaining = self.library.workflows()
                if remaining:
                    self.open_workflow(remaining[0].name)
                else:
                    self.new_workflow()
            dialog.set_workflows(self.library.workflows())
            self.shell.notify(f"Deleted the workflow '{name}'")

        def imported() -> None:
            path, _ = QFileDialog.getOpenFileName(dialog, "Import workflow", "", _FILTER)
            if path:
                try:
                    self.library.import_file(path)
                    self._notify_import_problems(path)
                except FlowdeskError as exc:
                    self.shell.notify(str(exc))
                dialog.set_workflows(self.library.workflows())

        def exported(name: str) -> None:
            path, _ = QFileDialog.getSaveFileName(dialog, "Export workflow", f"{name}.json",
                                                  _FILTER)
            if path:
                self.export_to(name, path)

        dialog.open_requested.connect(opened)
        dialog.new_requested.connect(created)
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
        names = [w.name for w in self.library.workflows()]
        if last in names:
            self.open_workflow(str(last))
            return
        if names:
            self.open_workflow(names[0])
            return
        # nothing is created until the user chooses: examples, or one empty workflow
        dialog = WelcomeDialog(self.parent)

        def add_examples() -> None:
            added = self.library.import_examples(examples_dir())
            if added:
                self.open_workflow(added[0])
                self.shell.notify(f"Added {len(added)} example workflows (File → Workflows…)")
            elif self.shell.doc is None:
                self.new_workflow()

        def start_empty() -> None:
            if self.shell.doc is None:
                self.new_workflow()

        dialog.accepted.connect(add_examples)
        dialog.rejected.connect(start_empty)
        self.welcome = dialog
        close_splash()  # the welcome is the start-up's first window: not behind the splash
        dialog.open()
