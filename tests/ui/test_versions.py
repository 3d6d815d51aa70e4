"""Versions in the app: Publish (Ctrl+S) makes the draft live, the title says when the draft
differs from the live version, the Versions window lists them, picking one marks the
difference on the canvas (added and changed steps glow, removed ones are ghosts), Restore is
one undo step, and a webhook/`flowdesk run` keeps running the live version meanwhile."""

from __future__ import annotations

from flowdesk.document.commands import AddItemsCommand, RemoveItemsCommand, SetConfigValueCommand
from flowdesk.ui.canvas.diff_overlay import GhostNodeItem


def _step(step_id: str, x: float, output: object) -> dict:
    return {"id": step_id, "type": "transform", "position": {"x": x, "y": 0},
            "data": {"label": step_id.upper(), "config": {"output": output}}}


def test_publish_title_versions_diff_on_canvas_restore_and_undo(window, qtbot) -> None:
    window.new_workflow()
    doc, store, name = window.doc, window.library.store, window.doc.name
    doc.undo_stack.push(AddItemsCommand(doc, [_step("a", 0, 1), _step("b", 400, 2)], [],
                                        "Add"))
    window.files.save_version(note="two steps")
    assert doc.version == 2 and "draft differs" not in window.windowTitle()
    published = doc.serialize()

    # a half-edited draft: autosaved, but not what runs by name use
    doc.undo_stack.push(SetConfigValueCommand(doc, "a", "output", 10))
    doc.undo_stack.push(RemoveItemsCommand(doc, ["b"], [], "Delete"))
    doc.undo_stack.push(AddItemsCommand(doc, [_step("c", 800, 3)], [], "Add"))
    qtbot.waitUntil(lambda: not window.library.has_pending_save(), timeout=5000)
    window.update_title()
    assert "draft differs from live version 2" in window.windowTitle()
    live, number = store.get_workflow(name)
    assert number == 2 and live.node("a").data.config["output"] == 1
    assert store.get_draft(name)[0].node("a").data.config["output"] == 10

    dialog = window.versions_dialog()
    assert dialog is not None
    table = dialog.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["2 (live)", "1"]
    assert [table.item(r, 2).text() for r in range(table.rowCount())] == ["2", "0"]
    assert table.item(0, 3).text() == "two steps"

    dialog.pick(2)
    text = dialog.changes.toPlainText().splitlines()
    assert "+ step c (transform)" in text and "- step b (transform)" in text
    assert "~ step a: config.output 1 → 10" in text
    ghosts = [i for i in window.scene.items() if isinstance(i, GhostNodeItem)]
    assert [(g.node_id, g.opacity() < 1, g.isEnabled()) for g in ghosts] == [
        ("b", True, False)]
    assert window.scene.node_at(ghosts[0].sceneBoundingRect().center()) is None
    assert window.scene.node_items["c"].graphicsEffect() is not None
    assert window.scene.node_items["a"].graphicsEffect() is not None
    assert dialog.overlay.marked == {"c": "added", "a": "changed"}
    before = doc.serialize()
    undo_count = doc.undo_stack.count()

    dialog.restore()
    assert doc.serialize() == {**published, "name": name}
    assert doc.undo_stack.count() == undo_count + 1
    assert sorted(window.scene.node_items) == ["a", "b"]
    assert dialog.changes.toPlainText() == "The draft is the same as version 2."
    assert not [i for i in window.scene.items() if isinstance(i, GhostNodeItem)]

    window.menus.act_undo.trigger()  # one step brings the half-edited draft back
    assert doc.serialize() == before
    assert sorted(window.scene.node_items) == ["a", "c"]
    window.menus.act_redo.trigger()
    assert doc.serialize() == {**published, "name": name}

    dialog.close()
    assert all(item.graphicsEffect() is None for item in window.scene.node_items.values())


def test_publishing_an_unchanged_draft_keeps_the_version(window) -> None:
    window.new_workflow()
    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [_step("a", 0, 1)], [], "Add"))
    window.files.save_version(note="")
    window.files.save_version(note="")
    assert doc.version == 2
    assert "unchanged" in window.last_notice
    assert [v.version for v in window.library.store.versions.list_versions(doc.name)] == [1, 2]


def test_the_title_marks_an_unsaved_edit_apart_from_an_unpublished_draft(window, qtbot) -> None:
    window.new_workflow()
    doc = window.doc
    window.files.save_version(note="")
    assert window.windowTitle() == f"{doc.name} (version {doc.version}) — flowdesk.db — flowdesk"
    doc.undo_stack.push(AddItemsCommand(doc, [_step("a", 0, 1)], [], "Add"))
    # the edit is not written yet: the dot says so
    assert window.windowTitle().endswith(" • — flowdesk.db — flowdesk")
    qtbot.waitUntil(lambda: not window.library.has_pending_save(), timeout=5000)
    # written to the draft: no dot, but the draft is not what runs
    qtbot.waitUntil(lambda: window.windowTitle() == (
        f"{doc.name} (draft differs from live version {doc.version}) — flowdesk.db — flowdesk"),
        timeout=2000)
    window.files.save_version(note="")
    assert window.windowTitle() == f"{doc.name} (version {doc.version}) — flowdesk.db — flowdesk"


def test_the_title_names_the_database_when_it_is_not_the_usual_one(
        qtbot, tmp_path, monkeypatch) -> None:
    from flowdesk.ui.notifications import database_label

    monkeypatch.setenv("FLOWDESK_DB", str(tmp_path / "mine.db"))
    assert database_label(f"sqlite:///{tmp_path / 'mine.db'}") == ""  # the usual one
    assert database_label(f"sqlite:///{tmp_path / 'team.db'}") == "team.db — "
    assert database_label("postgresql+psycopg://ann:pw@db.example:5432/flows?sslmode=require") \
        == "db.example:5432/flows — "  # never the password
