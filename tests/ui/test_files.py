"""Workflow files in the desktop app: drop to open, Save as, Import, Export (.json), and
a file opened before offers the stored workflow instead of making copies."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from flowdesk.ui.main_window import MainWindow
from tests.ui.test_editor import add_two


def _file(tmp_path: Path, name: str = "Refund approval", label: str = "Check") -> Path:
    path = tmp_path / "refund.json"
    path.write_text(json.dumps({"name": name, "nodes": [
        {"id": "check", "type": "transform", "position": {"x": 0, "y": 0},
         "data": {"label": label, "config": {"output": 1}}}], "edges": []}))
    return path


def _drop(target, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only inside a real drag session; call the handler itself
    target.dropEvent(drop)
    return drop


def _names(window: MainWindow) -> list[str]:
    return sorted(w.name for w in window.library.workflows())


def test_dropping_a_workflow_file_opens_it(window, tmp_path) -> None:
    window.new_workflow()
    path = _file(tmp_path)
    assert _drop(window, path).isAccepted()
    assert window.doc.name == "Refund approval"
    window.new_workflow()
    assert _drop(window.view, path).isAccepted()  # on the canvas too
    assert window.doc.name == "Refund approval"
    assert _names(window).count("Refund approval") == 1
    assert not window.step_palette.search.acceptDrops()  # no longer typed into the search field


def test_a_file_opened_before_offers_the_stored_workflow(window, tmp_path) -> None:
    path = _file(tmp_path)
    assert window.open_file(str(path)) is None  # new to the library: opened at once
    add_two(window)  # the stored workflow now differs from the file
    window.library.save_now()
    window.new_workflow()
    before = _names(window)
    box = window.open_file(str(path))
    assert isinstance(box, QMessageBox) and "'Refund approval'" in box.text()
    next(b for b in box.buttons() if b.text() == "Open existing").click()
    assert window.doc.name == "Refund approval"
    assert {n.id for n in window.doc.workflow.nodes} == {"check", "a", "b"}
    assert _names(window) == before
    box = window.open_file(str(path))
    next(b for b in box.buttons() if b.text() == "Import as copy").click()
    assert window.doc.name == "Refund approval (2)"
    assert [n.id for n in window.doc.workflow.nodes] == ["check"]
    # the file now belongs to the copy, which is still the same: opened without asking
    window.new_workflow()
    assert window.open_file(str(path)) is None
    assert window.doc.name == "Refund approval (2)"
    add_two(window)
    window.library.save_now()
    box = window.open_file(str(path))
    box.button(QMessageBox.StandardButton.Cancel).click()  # nothing happens
    assert window.doc.name == "Refund approval (2)"
    assert len(window.library.workflows()) == len(before) + 2


def test_a_file_imported_then_renamed_is_still_recognised(window, tmp_path) -> None:
    path = _file(tmp_path)
    name = window.library.import_file(path)
    window.open_workflow(name)
    window.files.rename_workflow("Refunds")
    window.library.save_now()
    assert window.library.match_file(path) == "Refunds"
    assert window.library.same_as_stored(path, "Refunds")
    window.new_workflow()
    assert window.open_file(str(path)) is None  # the same content: opened, no question
    assert window.doc.name == "Refunds"


def test_a_broken_file_is_reported_by_name(window, tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    window.new_workflow()
    assert window.open_file(str(path)) is None
    assert "broken.json" in window.last_notice


def test_export_adds_json_and_save_as_continues_in_a_copy(window, tmp_path) -> None:
    window.new_workflow()
    add_two(window)
    original = window.doc.name
    written = window.files.export_to(original, str(tmp_path / "refund-export"))
    assert written == tmp_path / "refund-export.json"
    assert json.loads(written.read_text())["name"] == original
    assert window.files.save_as("Refund v2")
    assert window.doc.name == "Refund v2"
    assert [n.id for n in window.doc.workflow.nodes] == ["a", "b"]
    window.canvas_actions.add_step("delay", QPointF(0, 300))
    window.library.save_now()
    stored, _ = window.library.store.get_draft(original)
    assert [n.id for n in stored.nodes] == ["a", "b"]  # the original is unchanged
    assert not window.files.save_as(original)  # taken: refused, said
    assert "already exists" in window.last_notice
    file_menu = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert {"Save as…", "Import…", "Export…"} <= set(file_menu)


def test_a_file_without_positions_opens_laid_out_not_piled_up(window, tmp_path) -> None:
    path = tmp_path / "hand-written.json"
    path.write_text(json.dumps({"name": "Hand written", "nodes": [
        {"id": i, "type": "transform", "data": {"config": {"output": 1}}} for i in "abc"],
        "edges": [{"id": "e1", "source": "a", "target": "b"},
                  {"id": "e2", "source": "b", "target": "c"}]}))
    window.open_file(str(path))
    assert window.doc.name == "Hand written"
    from flowdesk.ui.canvas.items import NODE_W

    xs = [window.scene.node_items[i].pos().x() for i in "abc"]  # drawn where the model says
    assert xs == [n.position.x for n in window.doc.workflow.nodes]
    assert xs[1] - xs[0] >= NODE_W and xs[2] - xs[1] >= NODE_W  # side by side, apart
