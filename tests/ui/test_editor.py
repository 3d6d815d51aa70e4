"""The desktop editor driven through its real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLineEdit

from flowdesk.document.commands import AddItemsCommand
from flowdesk.ui.canvas.items import NODE_H, NODE_W
from flowdesk.ui.canvas.view import STEP_MIME
from flowdesk.ui.main_window import MainWindow
from tests.ui.helpers import drag


def drop_step(window: MainWindow, step_type: str, at: QPoint) -> None:
    mime = QMimeData()
    mime.setData(STEP_MIME, step_type.encode())
    drop = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only inside a real drag session; call the view's handler itself
    window.view.dropEvent(drop)
    assert drop.isAccepted()


def add_two(window: MainWindow) -> tuple[str, str]:
    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [
        {"id": "a", "type": "transform", "position": {"x": 0, "y": 0},
         "data": {"label": "A", "config": {"output": 1}}},
        {"id": "b", "type": "transform", "position": {"x": 400, "y": 0},
         "data": {"label": "B", "config": {"output": 2}}}], [], "Add"))
    return "a", "b"


def test_drop_from_the_palette_adds_a_step_and_undo_removes_it(window, qtbot) -> None:
    window.new_workflow()
    assert window.empty_hint.isVisible()
    drop_step(window, "http_request", window.view.viewport().rect().center())
    doc = window.doc
    assert [n.type for n in doc.workflow.nodes] == ["http_request"]
    node_id = doc.workflow.nodes[0].id
    assert node_id in window.scene.node_items
    assert not window.empty_hint.isVisible()
    # the new step is selected and shown in the inspector, with its problems inline
    assert window.inspector.node_id == node_id
    qtbot.waitUntil(lambda: window.scene.node_items[node_id].problems != [])
    assert any("url" in p for p in window.scene.node_items[node_id].problems)
    window.menus.act_undo.trigger()
    assert doc.workflow.nodes == [] and window.scene.node_items == {}
    window.menus.act_redo.trigger()
    assert [n.id for n in doc.workflow.nodes] == [node_id]


def test_connect_by_dragging_from_port_to_port_refuses_cycles(window) -> None:
    window.new_workflow()
    a, b = add_two(window)
    items = window.scene.node_items
    drag(window.view, items[a].output_port(None), items[b].pos() + QPointF(NODE_W / 2,
                                                                              NODE_H / 2))
    doc = window.doc
    assert [(e.source, e.target) for e in doc.workflow.edges] == [("a", "b")]
    assert len(window.scene.edge_items) == 1
    # b -> a would close a cycle: refused, nothing added
    drag(window.view, items[b].output_port(None), items[a].pos() + QPointF(NODE_W / 2, 30))
    assert len(doc.workflow.edges) == 1
    # a -> b again is a duplicate: refused
    drag(window.view, items[a].output_port(None), items[b].pos() + QPointF(60, 30))
    assert len(doc.workflow.edges) == 1
    window.menus.act_undo.trigger()
    assert doc.workflow.edges == []


def test_a_drag_is_one_move_snapped_to_the_grid(window) -> None:
    window.new_workflow()
    a, _ = add_two(window)
    item = window.scene.node_items[a]
    count = window.doc.undo_stack.count()
    start = item.pos() + QPointF(100, 20)
    drag(window.view, start, start + QPointF(133, 47), steps=6)
    pos = window.doc.node(a).position
    assert (pos.x, pos.y) == (140.0, 40.0)  # 133, 47 snapped to the 20 px grid
    assert window.doc.undo_stack.count() == count + 1
    assert window.doc.undo_stack.undoText() == "Move"
    window.menus.act_undo.trigger()
    assert (window.doc.node(a).position.x, window.doc.node(a).position.y) == (0, 0)
    assert (item.pos().x(), item.pos().y()) == (0, 0)


def test_inspector_edits_are_undoable_and_merge_while_typing(window, qtbot) -> None:
    window.new_workflow()
    node_id = window.canvas_actions.add_step("condition", QPointF(0, 0))
    assert window.inspector.node_id == node_id
    field = window.inspector.fields["expression"]
    assert isinstance(field, QLineEdit)
    count = window.doc.undo_stack.count()
    qtbot.keyClicks(field, "input.n > 3")
    assert window.doc.node(node_id).data.config["expression"] == "input.n > 3"
    assert window.doc.undo_stack.count() == count + 1  # one entry for the whole typing
    qtbot.waitUntil(lambda: window.doc.problems_for_node(node_id) == [])
    window.menus.act_undo.trigger()
    assert "expression" not in window.doc.node(node_id).data.config
    assert field.text() == ""
    label = window.inspector.fields["@label"]
    qtbot.keyClicks(label, "!")
    assert window.doc.node(node_id).data.label == "Condition!"
    assert window.scene.node_items[node_id].label == "Condition!"


def test_template_fields_autocomplete_upstream_outputs(window, qtbot) -> None:
    window.new_workflow()
    first = window.canvas_actions.add_step("http_request", QPointF(0, 0))
    second = window.add_step_here("transform")  # added after the selected step, connected
    assert [(e.source, e.target) for e in window.doc.workflow.edges] == [(first, second)]
    window.scene.select_nodes([second])
    field = window.inspector.fields["jmespath"]
    suggestions = field.model.stringList()
    assert f"steps.{first}.output.status_code" in suggestions
    field.setFocus()
    qtbot.keyClicks(field, "{{ steps.")
    field.insert_completion(f"steps.{first}.output.body")
    assert field.text() == f"{{{{ steps.{first}.output.body }}}}"


def test_copy_paste_between_workflows_and_delete(window) -> None:
    window.new_workflow()
    add_two(window)
    window.canvas_actions.connect("a", None, "b")
    window.menus.act_select_all.trigger()
    window.menus.act_copy.trigger()
    first = window.doc.name
    window.new_workflow()
    assert window.doc.name != first
    window.menus.act_paste.trigger()
    assert sorted(n.id for n in window.doc.workflow.nodes) == ["a", "b"]
    assert [(e.source, e.target) for e in window.doc.workflow.edges] == [("a", "b")]
    window.menus.act_paste.trigger()  # again: new ids, offset
    assert len(window.doc.workflow.nodes) == 4 and len(window.doc.workflow.edges) == 2
    window.menus.act_duplicate.trigger()
    assert len(window.doc.workflow.nodes) == 6
    window.menus.act_select_all.trigger()
    window.menus.act_delete.trigger()
    assert window.doc.workflow.nodes == [] and window.doc.workflow.edges == []
    window.menus.act_undo.trigger()
    assert len(window.doc.workflow.nodes) == 6


def test_auto_layout_is_one_undo_entry(window) -> None:
    window.new_workflow()
    add_two(window)
    window.canvas_actions.connect("a", None, "b")
    before = window.doc.serialize()
    window.menus.act_layout.trigger()
    assert window.doc.undo_stack.undoText() == "Auto-layout"
    assert window.doc.node("a").position.x < window.doc.node("b").position.x
    window.menus.act_undo.trigger()
    assert window.doc.serialize() == before


def test_autosave_save_version_and_reopen(window, qtbot, tmp_path) -> None:
    window.new_workflow()
    name = window.doc.name
    add_two(window)
    assert "•" in window.windowTitle() and name in window.windowTitle()
    qtbot.waitUntil(lambda: not window.library.has_pending_save(), timeout=5000)
    stored, version = window.library.store.get_draft(name)
    assert [n.id for n in stored.nodes] == ["a", "b"]
    window.files.save_version(note="")  # what Ctrl+S does after its note prompt
    assert window.doc.version == version + 1
    assert "•" not in window.windowTitle()
    assert f"version {version + 1}" in window.windowTitle()
    window.files.rename_workflow("Renamed flow")
    assert window.library.store.has_workflow("Renamed flow")
    assert not window.library.store.has_workflow(name)
    window.menus.act_undo.trigger()  # renaming is undoable too
    window.library.save_now()
    assert window.library.store.has_workflow(name)


def test_palette_search_and_quick_add(window) -> None:
    window.new_workflow()
    window.step_palette.search.setText("cond")
    assert window.step_palette.visible_types() == ["condition"]
    window.step_palette.search.returnPressed.emit()
    assert [n.type for n in window.doc.workflow.nodes] == ["condition"]
    dialog = window.quick_add()
    dialog.search.setText("http")
    dialog.search.returnPressed.emit()
    types = [n.type for n in window.doc.workflow.nodes]
    assert types == ["condition", "http_request"]
    # added after the selected condition, through its first port
    assert window.doc.workflow.edges[0].source_handle == "true"


def test_steps_added_for_the_person_do_not_cover_each_other(window) -> None:
    from flowdesk.ui.canvas.items import NODE_H, NODE_W

    window.new_workflow()
    for step_type in ("transform", "delay", "http_request"):
        window.scene.clearSelection()
        window.add_step_here(step_type)  # nothing selected: in the middle of the view
    first = window.doc.workflow.nodes[0].id
    window.canvas_actions.add_step("condition", connect_from=first)
    window.canvas_actions.add_step("condition", connect_from=first)
    boxes = [(n.position.x, n.position.y) for n in window.doc.workflow.nodes]
    assert len(boxes) == 5
    for i, (ax, ay) in enumerate(boxes):
        for bx, by in boxes[i + 1:]:
            assert abs(ax - bx) >= NODE_W or abs(ay - by) >= NODE_H, boxes


def test_invalid_workflow_refuses_to_run(window, qtbot) -> None:
    window.new_workflow()
    node_id = window.canvas_actions.add_step("http_request", QPointF(0, 0))
    qtbot.waitUntil(lambda: window.doc.problems != [])
    assert window.run_dialog() is None
    assert "Run refused" in window.last_notice
    assert window.tabs.currentWidget() is window.problems
    assert window.problems.count() >= 1
    assert "url" in window.problems.item(0).text()
    window.problems.problem_activated.emit(node_id)
    assert window.scene.selected_node_ids() == [node_id]


def test_run_dialog_builds_a_form_from_the_input_schema(qtbot) -> None:
    from flowdesk.ui.dialogs import RunInputDialog

    schema = {"type": "object", "required": ["n"],
              "properties": {"n": {"type": "integer"}, "name": {"type": "string"},
                             "vip": {"type": "boolean"}}}
    dialog = RunInputDialog(schema, {"name": "Ada"})
    qtbot.addWidget(dialog)
    dialog.fields["n"].setText("x")
    dialog.run_button.click()
    assert "input.n: expected integer" in dialog.error.text()
    dialog.fields["n"].setText("7")
    dialog.fields["vip"].setChecked(True)
    dialog.run_button.click()
    assert dialog.value == {"n": 7, "name": "Ada", "vip": True}


def test_run_dialog_without_fields_runs_on_ctrl_enter_from_the_json_editor(qtbot) -> None:
    from flowdesk.ui.dialogs import RunInputDialog

    dialog = RunInputDialog({"type": "object"}, {"a": 1})
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.run_button  # Enter runs the input as it stands
    dialog.json.setFocus()
    qtbot.keyClick(dialog.json, Qt.Key.Key_Return)  # a new line in the editor, no run
    assert dialog.value is None and dialog.isVisible()
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.json, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.value == {"a": 1}


def test_first_start_offers_the_examples(window, qtbot) -> None:
    window.first_start()
    assert window.welcome.isVisible()
    window.welcome.examples.click()
    names = {w.name for w in window.library.workflows()}
    assert {"Order batch", "Refund approval", "Lead scoring"} <= names
    assert window.doc is not None and window.doc.name in names
    assert window.scene.node_items  # an example is open on the canvas


def test_sticky_notes_on_the_canvas(window) -> None:
    window.new_workflow()
    note_id = window.add_note()
    item = window.scene.note_items[note_id]
    assert item.toPlainText() == "Note"
    window.canvas_actions.edit_note(note_id, "Remember the VAT")
    assert window.doc.note(note_id)["text"] == "Remember the VAT"
    assert item.toPlainText() == "Remember the VAT"
    start = item.pos() + QPointF(20, 10)
    drag(window.view, start, start + QPointF(100, 41))
    assert (window.doc.note(note_id)["x"], window.doc.note(note_id)["y"]) == \
        (item.pos().x(), item.pos().y())
    assert window.doc.undo_stack.undoText() == "Move note"
    item.setSelected(True)
    window.menus.act_delete.trigger()
    assert note_id not in window.scene.note_items
    window.menus.act_undo.trigger()
    assert window.scene.note_items[note_id].toPlainText() == "Remember the VAT"
    saved = window.doc.serialize()
    assert saved["notes"][0]["text"] == "Remember the VAT"  # kept in the workflow file


def test_quick_add_enter_adds_one_step_and_keys_on_the_popup_reach_the_field(window,
                                                                            qtbot) -> None:
    from PySide6.QtCore import Qt

    from flowdesk.ui.quick_add import rank_entries

    window.new_workflow()
    dialog = window.quick_add()
    # keys that land on the popup itself (no focus yet on a real X server) are typed into
    # the field, not lost
    qtbot.keyClicks(dialog, "dela")
    assert dialog.search.text() == "dela"
    assert dialog.visible_types()[0] == "delay"
    # Enter reaches the field and then the popup: still one step
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert [n.type for n in window.doc.workflow.nodes] == ["delay"]
    # the label's start ranks before a mention in a description
    entries = window.registry.catalog()
    assert rank_entries(entries, "tr")[0].type == "transform"


def test_required_fields_say_required_and_fit_never_zooms_past_real_size(window,
                                                                         qtbot) -> None:
    window.new_workflow()
    first = window.canvas_actions.add_step("condition", QPointF(0, 0))
    window.canvas_actions.add_step("delay", QPointF(400, 0))
    window.scene.select_nodes([first])
    field = window.inspector.fields["expression"]
    assert isinstance(field, QLineEdit)
    assert field.placeholderText().startswith("required")
    assert "Undefined" not in field.placeholderText()
    window.view.resize(1400, 900)
    window.view.zoom_to_fit()
    assert window.view.zoom == 1.0  # two small steps stay at 100 %, not blown up


def test_a_workflow_too_long_to_fit_zooms_in_from_its_fit_by_steps(qtbot) -> None:
    # a 600-step chain fits only below the least zoom the wheel goes to; one notch from
    # there is one step in, not a leap to that least zoom
    import pytest
    from PySide6.QtGui import QWheelEvent

    from flowdesk.document.document import WorkflowDocument
    from flowdesk.model import Workflow
    from flowdesk.steps import default_registry
    from flowdesk.ui.canvas.scene import WorkflowScene
    from flowdesk.ui.canvas.view import MIN_ZOOM, WorkflowView

    nodes = [{"id": f"s{i}", "type": "transform", "position": {"x": i * 260, "y": 0}}
             for i in range(600)]
    edges = [{"id": f"e{i}", "source": f"s{i}", "target": f"s{i + 1}"} for i in range(599)]
    doc = WorkflowDocument(Workflow.model_validate({"name": "long", "nodes": nodes,
                                                    "edges": edges}), default_registry())
    view = WorkflowView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.setScene(WorkflowScene(doc))
    view.show()
    view.zoom_to_fit()
    fit = view.zoom
    assert fit < MIN_ZOOM  # everything shown
    notch = QPointF(400, 200)
    view.wheelEvent(QWheelEvent(notch, notch, QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                                False))
    assert view.zoom == pytest.approx(fit * 1.15)
    view.wheelEvent(QWheelEvent(notch, notch, QPoint(), QPoint(0, -240),
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                Qt.ScrollPhase.NoScrollPhase, False))
    assert view.zoom == pytest.approx(fit)  # back out to the fit, and not further
