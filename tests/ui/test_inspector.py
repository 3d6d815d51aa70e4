"""The inspector keeps what is typed, follows undo/redo in every kind of widget, and
completes templates in every field that takes them (real widgets, offscreen)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QMainWindow,
    QMessageBox,
)

from flowdesk.document.commands import AddItemsCommand
from flowdesk.ui.panels.editors import CodeEditor, TemplateLineEdit


def add(window, *nodes, edges=()) -> None:
    window.doc.undo_stack.push(AddItemsCommand(window.doc, list(nodes), list(edges), "Add"))


def node(node_id: str, step_type: str, config: dict | None = None, x: float = 0) -> dict:
    return {"id": node_id, "type": step_type, "position": {"x": x, "y": 0},
            "data": {"config": config or {}}}


def test_clearing_a_field_keeps_autosave_and_the_right_form(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("wait", "delay", {"until": "{{ steps.t.output }}"}),
        node("t", "transform", {"output": 1}, x=300))
    window.scene.select_nodes(["wait"])
    until = window.inspector.fields["until"]
    until.selectAll()
    until.del_()  # Ctrl+A, BackSpace as a user does it
    assert "until" not in window.doc.node("wait").data.config
    assert window.library.save_now() and "NOT SAVED" not in window.windowTitle()
    window.scene.select_nodes(["t"])
    window.scene.select_nodes(["wait"])
    assert window.inspector.node_id == "wait" and "until" in window.inspector.fields
    qtbot.keyClicks(window.inspector.fields["@label"], "Cool down")
    assert window.doc.node("wait").data.label == "Cool down"
    assert window.doc.node("t").data.label == ""
    assert window.library.save_now()
    stored, _ = window.library.store.get_draft(window.doc.name)
    assert stored.node("wait").data.label == "Cool down"
    assert "until" not in stored.node("wait").data.config


def test_a_failed_save_marks_the_title_and_says_why(window, qtbot) -> None:
    window.new_workflow()
    taken = window.doc.name
    window.new_workflow()
    from flowdesk.document.commands import RenameWorkflowCommand

    window.doc.undo_stack.push(RenameWorkflowCommand(window.doc, taken))
    window.library.save_now()
    assert "NOT SAVED" in window.windowTitle()
    assert window.save_label.isVisible() and "already exists" in window.save_label.toolTip()
    assert "NOT saved" in window.last_notice
    window.menus.act_undo.trigger()
    window.library.save_now()
    assert "NOT SAVED" not in window.windowTitle() and not window.save_label.isVisible()


def test_the_error_dialog_really_appears(window, qtbot, tmp_path) -> None:
    from flowdesk.app import _install_excepthook

    previous = sys.excepthook
    _install_excepthook()
    try:
        sys.excepthook(RuntimeError, RuntimeError("boom in a slot"), None)
        qtbot.waitUntil(lambda: any(
            isinstance(w, QMessageBox) and w.isVisible() and "boom in a slot" in w.text()
            for w in QApplication.topLevelWidgets()), timeout=5000)
        box = next(w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QMessageBox) and "boom in a slot" in w.text())
        assert isinstance(box.parent(), QMainWindow)  # over the app's window
        assert str(tmp_path / "home" / "logs" / "crash.log") in box.text()
        box.accept()
    finally:
        sys.excepthook = previous


def test_json_fields_keep_what_is_typed(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("t", "transform"), node("each", "for_each",
                                              {"step": {"type": "transform"}}, x=300))
    window.scene.select_nodes(["each"])
    items = window.inspector.fields["items"]
    assert isinstance(items, CodeEditor)
    items.setPlainText("{{ input.orders }}")  # the tooltip's own example, no quotes
    assert window.doc.node("each").data.config["items"] == "{{ input.orders }}"
    assert "Expression" in window.inspector.modes["items"].text()
    qtbot.waitUntil(lambda: not [p for p in window.doc.problems_for_node("each")
                                 if p.field == "items"])
    window.scene.select_nodes(["t"])
    output = window.inspector.fields["output"]
    output.setPlainText('{"total": {{ input.n }}')  # not JSON: kept as typed
    qtbot.waitUntil(lambda: any(p.field == "output" and p.code == "invalid_value"
                                for p in window.doc.problems_for_node("t")))
    assert window.inspector.errors["output"].isVisible()
    window.scene.select_nodes(["each"])
    assert window.inspector.fields["items"].toPlainText() == "{{ input.orders }}"
    window.scene.select_nodes(["t"])
    assert window.inspector.fields["output"].toPlainText() == '{"total": {{ input.n }}'
    assert window.library.save_now()
    stored, _ = window.library.store.get_draft(window.doc.name)
    assert stored.node("t").data.model_extra["drafts"]["output"] == '{"total": {{ input.n }}'
    window.inspector.fields["output"].setPlainText('{"total": "{{ input.n }}"}')
    assert window.doc.node("t").data.config["output"] == {"total": "{{ input.n }}"}
    assert window.doc.drafts_of("t") == {}


def test_undo_and_redo_refresh_every_kind_of_widget(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("h", "http_request", {"url": "http://x"}))
    window.scene.select_nodes(["h"])
    fields = window.inspector.fields
    method = fields["method"]
    assert isinstance(method, QComboBox) and method.currentText() == "GET"
    method.setCurrentText("POST")
    assert window.doc.node("h").data.config["method"] == "POST"
    window.menus.act_undo.trigger()
    assert method.currentText() == "GET"
    window.menus.act_redo.trigger()
    assert method.currentText() == "POST"
    window.menus.act_undo.trigger()

    fail = fields["fail_on_status"]
    assert isinstance(fail, QCheckBox) and fail.isChecked()
    fail.setChecked(False)
    assert window.doc.node("h").data.config["fail_on_status"] is False
    window.menus.act_undo.trigger()
    assert fail.isChecked()

    retry = fields["@retry"]
    assert isinstance(retry, QGroupBox) and not retry.isChecked()
    retry.setChecked(True)
    attempts = window.inspector.retry_widgets[0]
    attempts.setValue(7)
    assert window.doc.node("h").data.retry.max_attempts == 7
    while window.doc.node("h").data.retry is not None:
        window.menus.act_undo.trigger()
    assert not retry.isChecked() and attempts.value() == 3
    assert "retry" not in window.doc.serialize()["nodes"][0]["data"]
    window.menus.act_redo.trigger()
    assert retry.isChecked()
    window.menus.act_redo.trigger()
    assert attempts.value() == 7

    url = fields["url"]
    url.setText("http://y")
    url.textEdited.emit("http://y")
    window.menus.act_undo.trigger()
    assert url.text() == "http://x"


def test_completion_follows_the_graph_and_is_offered_everywhere(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("src", "http_request", {"url": "http://x"}),
        node("cond", "condition", {}, x=300), node("code", "inline_code", {}, x=600),
        node("mail", "send_email", {}, x=900))
    window.scene.select_nodes(["cond"])
    expression = window.inspector.fields["expression"]
    assert isinstance(expression, TemplateLineEdit)
    assert "steps.src.output" not in expression.completion.suggestions()
    add(window, edges=[{"id": "e1", "source": "src", "target": "cond",
                        "sourceHandle": None}])
    assert "steps.src.output.status_code" in expression.completion.suggestions()
    # the condition's expression is written without braces
    expression.setFocus()
    qtbot.keyClicks(expression, "steps.sr")
    assert expression.completion.completer.completionCount() > 0
    expression.completion.insert("steps.src.output.status_code")
    assert expression.text() == "steps.src.output.status_code"
    assert window.doc.node("cond").data.config["expression"] == expression.text()

    add(window, edges=[{"id": "e2", "source": "src", "target": "code", "sourceHandle": None},
                       {"id": "e3", "source": "src", "target": "mail",
                        "sourceHandle": None}])
    window.scene.select_nodes(["code"])
    code = window.inspector.fields["code"]
    assert "steps.src.output" in code.completion.suggestions()
    window.scene.select_nodes(["mail"])
    text = window.inspector.fields["text"]
    assert "steps.src.output" in text.completion.suggestions()
    text.setFocus()
    qtbot.keyClicks(text, "Status {{ steps.s")
    popup = text.completion.completer.popup()
    qtbot.waitUntil(popup.isVisible)
    assert popup.width() > 150  # as wide as the paths, not the 1 px of the text cursor
    text.completion.insert("steps.src.output.status_code")
    assert text.toPlainText() == "Status {{ steps.src.output.status_code }}"
    assert window.doc.node("mail").data.config["text"] == text.toPlainText()


def test_a_timeout_that_is_not_a_number_is_kept_and_shown(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("t", "transform", {"output": 1}), node("u", "transform", x=300))
    window.scene.select_nodes(["t"])
    timeout = window.inspector.fields["@timeout_seconds"]
    qtbot.keyClicks(timeout, "3O")  # a letter O for a zero
    assert window.doc.drafts_of("t") == {"@timeout_seconds": "3O"}
    assert window.doc.node("t").data.timeout_seconds is None
    qtbot.waitUntil(lambda: "not a number" in window.inspector.errors["@timeout_seconds"]
                    .text())
    window.scene.select_nodes(["u"])
    window.scene.select_nodes(["t"])
    timeout = window.inspector.fields["@timeout_seconds"]
    assert timeout.text() == "3O"
    timeout.setText("30")
    timeout.textEdited.emit("30")
    assert window.doc.node("t").data.timeout_seconds == 30
    assert window.doc.drafts_of("t") == {}
    window.menus.act_undo.trigger()  # the typing was one entry: back to no timeout, no draft
    assert timeout.text() == "" and window.doc.drafts_of("t") == {}


def test_a_value_of_the_wrong_type_from_a_file_is_shown_not_a_crash(window, qtbot) -> None:
    window.new_workflow()
    add(window, node("wait", "delay", {"until": {"at": 5}, "seconds": [1]}),
        node("t", "transform", x=300))
    window.scene.select_nodes(["t"])
    window.scene.select_nodes(["wait"])
    assert window.inspector.node_id == "wait"  # its own form, not the previous one
    assert window.inspector.fields["until"].text() == '{"at": 5}'
    assert window.inspector.fields["seconds"].text() == "[1]"
    qtbot.waitUntil(lambda: {p.field for p in window.doc.problems_for_node("wait")}
                    >= {"until", "seconds"})
