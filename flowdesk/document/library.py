"""The workflow library: stored workflows as the app sees them — list, create, open, save
(autosave and numbered versions), rename, duplicate, delete, import, export — on top of the
store, so widgets never touch the database. It remembers which file each imported workflow
came from, so opening that file again can offer the stored workflow instead of a copy.

A save that fails never fails silently: ``save_now`` keeps the edits in the open document,
sets ``save_error`` (why, and what to do), emits ``save_failed`` with it, and tries again a
few seconds later and at every edit; ``save_failed("")`` says saving works again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from flowdesk.document.document import WorkflowDocument
from flowdesk.engine.layout import place_if_unplaced
from flowdesk.engine.registry import StepRegistry
from flowdesk.importers import load_workflow_file
from flowdesk.model.errors import Problem, StoreError
from flowdesk.model.events import RunEvent
from flowdesk.model.pins import split_pins
from flowdesk.model.run import RunSnapshot, StepRunSnapshot, WorkflowInfo
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow
from flowdesk.store import Store

__all__ = ["IMPORTED_FILES", "WorkflowLibrary"]

IMPORTED_FILES = "library.imported_files"


def _key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


log = logging.getLogger(__name__)

_RETRY_MS = 5000


class WorkflowLibrary(QObject):
    changed = Signal()  # the list of workflows changed
    saved = Signal(str, int)  # name, version (after an autosave or a version save)
    save_failed = Signal(str)  # why the open workflow could not be saved ("" once it is)

    def __init__(self, store: Store, registry: StepRegistry, autosave_ms: int = 800,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.registry = registry
        self.doc: WorkflowDocument | None = None
        self._stored_name: str | None = None
        # what the last open_file/import_file could not translate (an n8n export's problems)
        self.import_problems: list[Problem] = []
        self._autosave = QTimer(self, singleShot=True, interval=autosave_ms)
        self._autosave.timeout.connect(self.save_now)
        self._retry = QTimer(self, singleShot=True, interval=_RETRY_MS)
        self._retry.timeout.connect(self.save_now)
        self.save_error: str | None = None

    # -- listing -----------------------------------------------------------------------------
    def workflows(self) -> list[WorkflowInfo]:
        """The stored workflows (name, version, when saved), by name."""
        return self.store.list_workflows()

    def saved_names(self) -> set[str]:
        return {w.name for w in self.store.list_workflows()}

    def is_empty(self) -> bool:
        return not self.store.list_workflows()

    def unique_name(self, base: str) -> str:
        taken = {w.name for w in self.store.list_workflows()}
        if base not in taken:
            return base
        i = 2
        while f"{base} ({i})" in taken:
            i += 1
        return f"{base} ({i})"

    # -- opening -----------------------------------------------------------------------------
    def _leave(self) -> None:
        """Save the open workflow before another replaces it; StoreError if that fails
        (the open one then stays open, with its edits)."""
        if not self.save_now():
            raise StoreError(self.save_error or "the open workflow could not be saved")

    def open(self, name: str) -> WorkflowDocument:
        self._leave()
        workflow, version = self.store.get_draft(name)
        return self._attach(workflow, version)

    def create(self, name: str = "Untitled workflow") -> WorkflowDocument:
        self._leave()
        workflow = Workflow(name=self.unique_name(name))
        version = self.store.save_workflow(workflow, new_version=True)
        self.changed.emit()
        return self._attach(workflow, version)

    def match_file(self, path: str | Path) -> str | None:
        """The stored workflow that ``path`` was opened or imported as before, or that has
        the file's workflow name; None when the file is new to the library. (Raises
        ``InvalidWorkflow`` when the file is not a workflow.)"""
        workflow = load_workflow_file(path).workflow
        known = self._imported().get(_key(path))
        if known is not None and self.store.has_workflow(known):
            return known
        return workflow.name if self.store.has_workflow(workflow.name) else None

    def same_as_stored(self, path: str | Path, name: str) -> bool:
        """True when the file holds exactly the stored workflow ``name``."""
        workflow = load_workflow_file(path).workflow
        stored, _ = self.store.get_draft(name)
        workflow.name = name
        return stored.to_dict() == workflow.to_dict()

    def open_file(self, path: str | Path, *, as_copy: bool = False) -> WorkflowDocument:
        """Open a workflow file: the stored workflow it was opened as before (see
        ``match_file``), or with ``as_copy`` (or when it is new) import it, under a free
        name if its name is taken, and open that."""
        self._leave()
        existing = None if as_copy else self.match_file(path)
        if existing is not None:
            self.import_problems = []
            return self.open(existing)
        name = self.import_file(path)
        workflow, version = self.store.get_draft(name)
        return self._attach(workflow, version)

    def _attach(self, workflow: Workflow, version: int) -> WorkflowDocument:
        self.save_now()
        if self.doc is not None:
            self.doc.changed.disconnect(self._autosave.start)
            self.changed.disconnect(self.doc.revalidate)
            self.doc.deleteLater()
        doc = WorkflowDocument(workflow, self.registry, self)
        doc.saved_workflows = self.saved_names
        self.changed.connect(doc.revalidate)  # a workflow it runs may come or go
        doc.revalidate()
        doc.version = version
        doc.pins = self.store.get_pins(workflow.name)
        doc.changed.connect(self._autosave.start)
        self.doc = doc
        self._stored_name = workflow.name
        return doc

    # -- saving ------------------------------------------------------------------------------
    def save_now(self) -> bool:
        """Write the open workflow (autosave): no new version, nothing lost on close.
        Returns False (and reports why through ``save_failed``) when it cannot be saved."""
        self._autosave.stop()
        self._retry.stop()
        doc = self.doc
        if doc is None or self._stored_name is None:
            return True
        try:
            if doc.name != self._stored_name:
                self.store.rename_workflow(self._stored_name, doc.name)
                self._renamed(self._stored_name, doc.name)
                self._stored_name = doc.name
                self.changed.emit()
            version = self.store.save_workflow(doc.workflow)
            # beside the draft, never in a version; a deleted step's pin goes (the document
            # keeps it while an undo may bring the step back)
            self.store.set_pins(doc.name, {k: v for k, v in doc.pins.items()
                                           if doc.has_node(k)})
        except Exception as exc:  # whatever it is, the user must hear of it at once
            log.exception("saving workflow '%s' failed", doc.name)
            self._failed(exc)
            return False
        if self.save_error is not None:
            self.save_error = None
            self.save_failed.emit("")
        self.saved.emit(doc.name, version)
        return True

    def _failed(self, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        self.save_error = (f"Your latest edits are NOT saved: {reason}. They stay in this "
                           "window and flowdesk tries again every few seconds and at each "
                           "edit; if it keeps failing, keep a copy with File → Export.")
        self._retry.start()
        self.save_failed.emit(self.save_error)

    def save_version(self, note: str | None = None) -> int:
        """Publish the open workflow: its draft becomes the live version (a new numbered
        version unless nothing changed since the last one); clears the dirty marker."""
        assert self.doc is not None
        if not self.save_now():
            raise StoreError(self.save_error or "the workflow could not be saved")
        version, _ = self.store.versions.publish(self.doc.workflow, note)
        self.doc.version = version
        self.doc.mark_saved()
        self.saved.emit(self.doc.name, version)
        return version

    def has_pending_save(self) -> bool:
        return self._autosave.isActive() or self._retry.isActive()

    # -- managing ----------------------------------------------------------------------------
    def duplicate(self, name: str) -> str:
        workflow, _ = self.store.get_draft(name)
        workflow.name = self.unique_name(f"{name} copy")
        self.store.save_workflow(workflow, new_version=True)
        self.changed.emit()
        return workflow.name

    def delete(self, name: str) -> None:
        if self.doc is not None and self.doc.name == name:
            self._autosave.stop()
            self._retry.stop()
            self.doc = None
            self._stored_name = None
        self.store.delete_workflow(name)
        self.changed.emit()

    def _load(self, path: str | Path) -> Workflow:
        result = load_workflow_file(path)
        self.import_problems = result.problems
        return result.workflow

    def import_file(self, path: str | Path) -> str:
        """Store the workflow in ``path`` as a new workflow (under a free name if its name
        is taken) and remember where it came from; returns its name. An n8n export is
        converted; what it could not translate is left in ``import_problems``."""
        workflow, pins = split_pins(self._load(path))
        place_if_unplaced(workflow)  # a file without positions opens laid out, not piled up
        workflow.name = self.unique_name(workflow.name) if self.store.has_workflow(
            workflow.name) else workflow.name
        self.store.save_workflow(workflow, new_version=True)
        if pins:  # a file exported with its pins: they are kept beside the workflow
            self.store.set_pins(workflow.name, pins)
        self._remember(path, workflow.name)
        self.changed.emit()
        return workflow.name

    def save_as(self, name: str) -> WorkflowDocument:
        """Store the open workflow under a new name (a new workflow; the original stays as
        it is) and open the copy."""
        assert self.doc is not None
        self.save_now()
        if self.store.has_workflow(name):
            raise StoreError(f"a workflow named '{name}' already exists")
        workflow = self.doc.snapshot()
        workflow.name = name
        version = self.store.save_workflow(workflow, new_version=True)
        self.store.set_pins(name, self.doc.pins)  # the copy keeps the pins
        self.changed.emit()
        return self._attach(workflow, version)

    def export(self, name: str, path: str | Path) -> Path:
        """Write the workflow ``name`` to ``path`` (``.json`` added when missing); returns
        the path written. The open one is written as it is in the editor, even when it cannot
        be saved to the database (that is the way to keep a copy then)."""
        target = Path(path)
        if target.suffix.lower() != ".json":
            target = target.with_name(target.name + ".json")
        if self.doc is not None and self.doc.name == name:
            self.save_now()
            self.doc.workflow.save(target)
            return target
        workflow, _ = self.store.get_workflow(name)
        workflow.save(target)
        return target

    # -- where files came from (a store setting: absolute path -> workflow name) ----------
    def _imported(self) -> dict[str, str]:
        value = self.store.get_setting(IMPORTED_FILES, {})
        return value if isinstance(value, dict) else {}

    def _remember(self, path: str | Path, name: str) -> None:
        imported = self._imported()
        imported[_key(path)] = name
        self.store.set_setting(IMPORTED_FILES, imported)

    def _renamed(self, old: str, new: str) -> None:
        imported = self._imported()
        if old in imported.values():
            self.store.set_setting(IMPORTED_FILES, {
                path: new if name == old else name for path, name in imported.items()})

    def import_examples(self, folder: Path) -> list[str]:
        names = []
        for path in sorted(folder.glob("*.json")):
            workflow = Workflow.load(path)
            if not self.store.has_workflow(workflow.name):
                self.store.save_workflow(workflow, new_version=True)
                names.append(workflow.name)
        self.changed.emit()
        return names

    # -- runs of the open workflow -----------------------------------------------------------
    def runs(self, name: str, limit: int = 200) -> list[RunSnapshot]:
        return self.store.list_runs(workflow=name, limit=limit)

    def get_run(self, run_id: str) -> RunSnapshot:
        """The run's whole stored record (UnknownRun when there is none)."""
        return self.store.get_run(run_id)

    def run_status(self, run_id: str) -> RunStatus:
        return self.store.run_status(run_id)

    def get_step_run(self, run_id: str, step_id: str) -> StepRunSnapshot | None:
        return self.store.get_step_run(run_id, step_id)

    def events(self, run_id: str) -> list[RunEvent]:
        return self.store.get_events(run_id)

    def waiting(self) -> list[dict[str, Any]]:
        return [dict(w) for w in self.store.waiting_steps()]
