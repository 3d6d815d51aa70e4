"""Test one step, pins and "Run to here" in the app (offscreen, the real window on a SQLite
file): the inspector's Test button runs only the selected step on the UI's loop and shows
the result in the Step tab without a run in History; pins are undoable edits saved with the
draft and marked on the canvas; Run to here runs the step and its upstream as a real run."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QPushButton

from flowdesk.document.document import UNSET
from flowdesk.document.pins import SetPinCommand
from flowdesk.model import RunStatus, StepStatus
from flowdesk.resources import examples_dir
from flowdesk.ui.canvas.pin_mark import PIN_COLOR
from flowdesk.ui.panels.step_test import StepTestBar
from tests.e2e.screen import Screen
from tests.ui.conftest import save_artifact


def _open_orders(window) -> None:
    window.library.import_examples(examples_dir())
    window.open_workflow("Order batch")


def _sample() -> dict:
    return json.loads((examples_dir() / "order-batch.json").read_text())["sample_input"]


def _bar(window) -> StepTestBar:
    bars = window.inspector.widget().findChildren(StepTestBar)
    assert len(bars) == 1
    return bars[0]


def test_the_test_button_runs_one_step_on_a_pin_without_a_run(window, qtbot) -> None:
    _open_orders(window)
    window.scene.select_nodes(["totals"])
    bar = _bar(window)
    assert bar.test_button.text() == "Test step"
    # nothing pinned and never run: the Step tab says which upstream step has no data
    qtbot.mouseClick(bar.test_button, qtbot_left())
    qtbot.waitUntil(lambda: "could not be tested" in window.step_details.title.text(),
                    timeout=10000)
    assert "reads the output of 'price'" in window.step_details.error.text()
    assert "Cannot test 'totals'" in window.last_notice

    window._push(SetPinCommand(window.doc, "price", {"results": [
        {"result": {"id": "P-1", "gross": 600}}, {"result": {"id": "P-2", "gross": 5}}]}))
    qtbot.mouseClick(_bar(window).test_button, qtbot_left())
    qtbot.waitUntil(lambda: "tested alone" in window.step_details.title.text(),
                    timeout=10000)
    details = window.step_details
    assert details.output.value == {"orders": [{"id": "P-1", "gross": 600},
                                               {"id": "P-2", "gross": 5}],
                                    "large": ["P-1"], "gross": 605}
    assert "price (pinned)" in details.title.text()
    assert window.tabs.currentWidget() is not window.history
    assert details.pin_output.isVisible()
    assert window.history.rowCount() == 0 and window.library.runs("Order batch") == []
    save_artifact(window, "test_step_result.png")


def test_a_failing_test_shows_the_error(window, qtbot) -> None:
    _open_orders(window)
    window._push(SetPinCommand(window.doc, "price", {"results": "oops"}))
    window.scene.select_nodes(["totals"])
    window.testing.test_selected()
    qtbot.waitUntil(lambda: "tested alone" in window.step_details.title.text(),
                    timeout=10000)
    assert "failed" in window.step_details.title.text()
    assert "jmespath" in window.step_details.error.text()
    assert not window.step_details.pin_output.isVisible()


def test_pins_are_undoable_marked_on_the_canvas_and_saved_with_the_draft(
        window, qtbot) -> None:
    _open_orders(window)
    doc = window.doc
    assert window.scene.pin_marks == {}
    window.scene.select_nodes(["totals"])
    assert not _bar(window).unpin_button.isVisibleTo(_bar(window))
    window._push(SetPinCommand(doc, "totals", {"large": ["Z"]}))
    assert doc.pins == {"totals": {"large": ["Z"]}}
    assert set(window.scene.pin_marks) == {"totals"}
    assert _bar(window).unpin_button.isVisibleTo(_bar(window))
    assert _bar(window).pin_button.text() == "Edit pin…"
    save_artifact(window.inspector, "inspector_pinned_step.png")
    # the mark is drawn: violet pixels on the step's top edge
    item = window.scene.node_items["totals"]
    qtbot.wait(50)  # the zoom-to-fit after opening has happened
    window.view.set_zoom(1.0)
    window.view.centerOn(item)
    canvas = Screen(window.view.grab().toImage())
    mark = window.view.mapFromScene(window.scene.pin_marks["totals"].scenePos())
    assert canvas.share(mark.x() - 6, mark.y() - 6, 12, 12, PIN_COLOR, tolerance=40) > 0.4
    save_artifact(window.view, "pin_mark.png")
    # saved beside the draft, no new version
    assert window.library.save_now()
    assert window.library.store.get_pins("Order batch") == {"totals": {"large": ["Z"]}}
    assert [v.version for v in window.library.store.versions.list_versions(
        "Order batch")] == [1]
    doc.undo_stack.undo()
    assert doc.pins == {} and window.scene.pin_marks == {}
    doc.undo_stack.redo()
    assert "totals" in window.scene.pin_marks
    window.testing.unpin("totals")
    assert doc.pins == {}
    window.library.save_now()
    assert window.library.store.get_pins("Order batch") == {}
    # reopening shows stored pins
    window._push(SetPinCommand(doc, "flag", [1]))
    window.library.save_now()
    window.open_workflow("Order batch")
    assert window.doc.pins == {"flag": [1]} and set(window.scene.pin_marks) == {"flag"}


def test_pin_dialog_and_pin_this_output_from_a_past_run(window, qtbot) -> None:
    _open_orders(window)
    run_id = window.start_run(_sample())
    qtbot.waitUntil(lambda: window.runs.status(run_id) is RunStatus.COMPLETED, timeout=20000)
    window.runs.show_run(run_id)
    window.scene.select_nodes(["totals"])
    details = window.step_details
    assert details.pin_output.isVisibleTo(details)
    details.pin_output.click()  # one click: the shown output is pinned
    assert window.doc.pins["totals"]["large"] == ["A-1002"]
    assert "Pinned the output of 'totals'" in window.last_notice
    # the dialog edits it as JSON and refuses what is not JSON
    dialog = window.testing.edit_pin("totals")
    assert json.loads(dialog.editor.toPlainText())["large"] == ["A-1002"]
    dialog.editor.setPlainText("{nope")
    dialog.accept()
    assert dialog.isVisible() and "Not valid JSON" in dialog.error.text()
    dialog.editor.setPlainText('{"large": []}')
    dialog.accept()
    assert window.doc.pins["totals"] == {"large": []}
    # testing the next step uses the pin, not the run
    window.scene.select_nodes(["any_large"])
    window.testing.test_selected()
    qtbot.waitUntil(lambda: "tested alone" in details.title.text(), timeout=10000)
    assert details.output.value == {"result": False}
    assert "totals (pinned)" in details.title.text()
    assert window.history.rowCount() == 1  # still only the real run
    window.testing.unpin("totals")
    window.testing.test("any_large")
    qtbot.waitUntil(lambda: details.output.value == {"result": True}, timeout=10000)
    assert f"totals (run {run_id[:8]})" in details.title.text()


def test_the_pin_dialog_starts_from_the_steps_newest_output_in_a_run(window, qtbot) -> None:
    _open_orders(window)
    assert json.loads(window.testing.edit_pin("totals").editor.toPlainText()) == {}  # no run
    window.testing.pin_dialog.reject()
    run_id = window.start_run(_sample())
    qtbot.waitUntil(lambda: window.runs.status(run_id) is RunStatus.COMPLETED, timeout=20000)
    dialog = window.testing.edit_pin("totals")
    assert json.loads(dialog.editor.toPlainText())["large"] == ["A-1002"]
    dialog.reject()
    assert "totals" not in window.doc.pins  # opening the dialog pins nothing


def test_run_to_here_runs_the_step_and_its_upstream_as_a_real_run(window, qtbot) -> None:
    _open_orders(window)
    window.scene.select_nodes(["totals"])
    window.menus.act_run_to.trigger()
    dialog = window.input_dialog
    assert dialog.windowTitle() == "Run to 'totals'"
    assert dialog.run_button.text() == "Run to here"
    dialog.run_button.click()
    qtbot.waitUntil(lambda: window.current_run is not None and window.runs.status()
                    is RunStatus.COMPLETED, timeout=20000)
    run = window.library.get_run(window.current_run)
    assert sorted(run.steps) == ["price", "totals"]
    assert window.scene.node_items["totals"].view.status is StepStatus.COMPLETED
    assert window.scene.node_items["summary"].view is None
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)


def test_the_canvas_context_menu_selects_the_step_and_offers_test_and_run_to_here(
        window, qtbot) -> None:
    _open_orders(window)
    window.scene.clearSelection()
    item = window.scene.node_items["flag"]
    pos = window.view.mapFromScene(item.sceneBoundingRect().center() + QPointF(0, 6))
    menu = window.menus._canvas_menu(pos)
    assert window.scene.selected_node_ids() == ["flag"]
    texts = [a.text() for a in menu.actions()]
    assert texts[:4] == ["Test selected step", "Pin output of selected step…",
                         "Run to selected step", "Run from selected step"]
    menu.close()
    assert isinstance(_bar(window).test_button, QPushButton)


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_unpin_of_an_unpinned_step_does_nothing(window) -> None:
    _open_orders(window)
    count = window.doc.undo_stack.count()
    window.testing.unpin("totals")
    assert window.doc.undo_stack.count() == count
    window._push(SetPinCommand(window.doc, "totals", 1))
    window._push(SetPinCommand(window.doc, "totals", UNSET))
    assert window.doc.pins == {}


def test_a_deleted_steps_pin_is_not_saved_but_comes_back_with_an_undo(window) -> None:
    from flowdesk.document.commands import RemoveItemsCommand

    _open_orders(window)
    doc = window.doc
    window._push(SetPinCommand(doc, "flag", {"x": 1}))
    window._push(RemoveItemsCommand(doc, ["flag"], []))
    window.library.save_now()
    assert window.library.store.get_pins("Order batch") == {}
    doc.undo_stack.undo()
    assert "flag" in window.scene.pin_marks
    window.library.save_now()
    assert window.library.store.get_pins("Order batch") == {"flag": {"x": 1}}
