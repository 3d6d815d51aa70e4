"""The error port in the editor: the inspector's Behaviour checkbox adds it (one undo entry),
the node draws it in red, it connects by dragging like any port, and after a run the taken
error edge and the skipped ordinary edge are drawn as the rules say (offscreen, real window)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QCheckBox

from flowdesk.document.commands import AddItemsCommand
from flowdesk.ui.canvas.items import NODE_H, NODE_W
from flowdesk.ui.main_window import MainWindow
from tests.ui.conftest import save_artifact
from tests.ui.helpers import drag


def _steps(window: MainWindow, failing: bool = False) -> None:
    output = "{{ input.missing }}" if failing else 1
    window.doc.undo_stack.push(AddItemsCommand(window.doc, [
        {"id": n, "type": "transform", "position": {"x": x, "y": y},
         "data": {"label": n.upper(), "config": {"output": output if n == "a" else n}}}
        for n, x, y in (("a", 0, 0), ("b", 400, -100), ("c", 400, 150))], [], "Add"))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 50))


def _pixel(window: MainWindow, at: QPointF) -> QColor:
    image = QImage(6, 6, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    window.scene.render(painter, QRectF(0, 0, 6, 6), QRectF(at.x() - 3, at.y() - 3, 6, 6))
    painter.end()
    return QColor(image.pixel(3, 3))


def test_the_behaviour_checkbox_adds_a_red_error_port_that_connects(window, qtbot) -> None:
    window.new_workflow()
    _steps(window)
    doc, items = window.doc, window.scene.node_items
    window.scene.select_nodes(["a"])
    box = window.inspector.fields["@on_error"]
    cont = window.inspector.fields["@continue_on_error"]
    assert isinstance(box, QCheckBox) and isinstance(cont, QCheckBox)
    assert not box.isChecked() and cont.isEnabled()
    assert items["a"].output_handles() == (None,)
    entries = doc.undo_stack.count()

    box.click()
    assert doc.node("a").data.on_error == "error_output"
    assert doc.undo_stack.count() == entries + 1
    assert items["a"].output_handles() == (None, "error")
    assert not cont.isEnabled()  # the error port takes the failure instead
    port = items["a"].output_port("error")
    red = _pixel(window, port)
    assert red.red() > 180 and red.green() < 100, red.name()
    normal = _pixel(window, items["a"].output_port(None))
    assert abs(normal.red() - normal.green()) < 40, normal.name()  # the ordinary port: grey
    save_artifact(window.view, "error-port.png")

    # drag from the red port to c, from the ordinary port to b
    drag(window.view, port, items["c"].pos() + QPointF(NODE_W / 2, NODE_H / 2))
    drag(window.view, items["a"].output_port(None),
         items["b"].pos() + QPointF(NODE_W / 2, NODE_H / 2))
    assert {(e.source, e.source_handle, e.target) for e in doc.workflow.edges} == {
        ("a", "error", "c"), ("a", None, "b")}
    error_edge = next(i for i in window.scene.edge_items.values() if i.handle == "error")
    assert error_edge.path().pointAtPercent(0) == port  # it leaves the red port

    # off: the error edge goes too, in one undo entry; undo brings both back
    box.click()
    assert doc.node("a").data.on_error is None
    assert [(e.source_handle, e.target) for e in doc.workflow.edges] == [(None, "b")]
    assert items["a"].output_handles() == (None,)
    window.menus.act_undo.trigger()
    assert doc.node("a").data.on_error == "error_output"
    assert {e.target for e in doc.workflow.edges} == {"b", "c"}
    assert box.isChecked() and not cont.isEnabled()  # the inspector follows undo
    window.menus.act_redo.trigger()
    assert not box.isChecked() and len(window.scene.edge_items) == 1


def test_a_connection_from_a_missing_error_port_is_refused(window) -> None:
    window.new_workflow()
    _steps(window)
    reason = window.doc.can_connect("a", "error", "b")
    assert reason is not None and "no error port" in reason


def test_after_a_run_the_error_edge_is_taken_and_the_ordinary_one_skipped(
        window, qtbot) -> None:
    window.new_workflow()
    _steps(window, failing=True)
    window.scene.select_nodes(["a"])
    window.inspector.fields["@on_error"].click()
    window.canvas_actions.connect("a", None, "b")
    window.canvas_actions.connect("a", "error", "c")
    assert window.start_run({}) is not None
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"), timeout=30000)
    edges = {i.handle: i for i in window.scene.edge_items.values()}
    qtbot.waitUntil(lambda: edges["error"].state == "taken", timeout=5000)
    assert edges[None].state == "dead"
    views = window.scene.views_by_step
    assert views["a"].status.value == "failed" and views["a"].branch == "error"
    assert views["b"].status.value == "skipped" and views["c"].status.value == "completed"
    save_artifact(window.view, "error-port-after-run.png")
