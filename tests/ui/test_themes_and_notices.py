"""Both themes legible where the user looks, and what the window says: the status bar
after switching workflows, the first start, Problems wording, runs resumed after a crash."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox

from flowdesk.document.commands import AddItemsCommand
from flowdesk.ui import theme
from flowdesk.ui.main_window import MainWindow
from tests.ui.conftest import save_artifact


def _luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _set_theme(window: MainWindow, dark: bool) -> None:
    window.menus.act_dark.setChecked(dark)
    window.toggle_theme()


def test_the_highlighted_row_of_a_combo_popup_is_legible(window, qtbot) -> None:
    window.new_workflow()
    window.canvas_actions.add_step("http_request", QPointF(0, 0))
    combo = window.inspector.fields["method"]
    assert isinstance(combo, QComboBox)
    for dark in (False, True):
        _set_theme(window, dark)
        combo.showPopup()
        view = combo.view()
        qtbot.waitUntil(view.isVisible)
        view.setCurrentIndex(view.model().index(1, 0))
        rect = view.visualRect(view.currentIndex())
        image = view.viewport().grab().toImage()
        save_artifact(view.viewport(), f"combo-popup-{'dark' if dark else 'light'}.png")
        background = QColor(image.pixel(rect.left() + 2, rect.center().y()))
        row = [QColor(image.pixel(x, y)) for x in range(rect.left(), rect.right())
               for y in range(rect.top(), rect.bottom())]
        text = max(row, key=lambda c: contrast(c, background))
        assert contrast(text, background) > 4.0, (background.name(), text.name())
        assert background.name() == theme.current_theme().selection
        combo.hidePopup()
    _set_theme(window, False)


def test_dead_branches_are_visible_in_both_themes(window) -> None:
    window.new_workflow()
    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [
        {"id": n, "type": "transform", "position": {"x": x, "y": 0},
         "data": {"label": n, "config": {"output": 1}}} for n, x in (("a", 0), ("b", 400))],
        [{"id": "e1", "source": "a", "target": "b"}], "Add"))
    edge = window.scene.edge_items["e1"]
    for dark in (False, True):
        _set_theme(window, dark)
        edge.set_state(None)
        edge.set_state("dead")
        canvas = QColor(theme.current_theme().canvas)
        assert contrast(edge.pen().color(), canvas) >= 2.0, (dark, edge.pen().color().name())
    _set_theme(window, False)


def test_the_minimap_follows_the_theme_at_once(window, qtbot) -> None:
    window.new_workflow()
    minimap = window.view.minimap
    assert minimap.isVisible()
    def on_screen() -> str:  # what the window shows, not a fresh render of the widget
        from PySide6.QtWidgets import QApplication

        image = QApplication.primaryScreen().grabWindow(window.winId()).toImage()
        corner = minimap.mapTo(window, minimap.rect().topLeft())
        return QColor(image.pixel(corner.x() + 4, corner.y() + 4)).name()

    _set_theme(window, True)
    qtbot.waitUntil(lambda: on_screen() == theme.DARK.window)
    _set_theme(window, False)
    qtbot.waitUntil(lambda: on_screen() == theme.LIGHT.window)


def test_switching_workflows_clears_the_previous_run_from_the_status_bar(window, qtbot) -> None:
    window.new_workflow()
    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [
        {"id": "a", "type": "transform", "position": {"x": 0, "y": 0},
         "data": {"label": "A", "config": {"output": 1}}}], [], "Add"))
    qtbot.waitUntil(lambda: window.doc.problems == [])
    run_id = window.start_run({})
    assert run_id is not None
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"), timeout=20000)
    window.new_workflow()
    assert window.status_label.text() == ""


def test_first_start_with_the_examples_makes_no_empty_workflow(window) -> None:
    window.first_start()
    assert window.library.workflows() == []  # nothing made before the user chooses
    window.welcome.examples.click()
    names = [w.name for w in window.library.workflows()]
    assert names and not any(n.startswith("Untitled workflow") for n in names)


def test_first_start_empty_makes_one_empty_workflow(window) -> None:
    window.first_start()
    window.welcome.empty.click()
    assert [w.name for w in window.library.workflows()] == ["Untitled workflow"]
    assert window.doc is not None and window.doc.name == "Untitled workflow"


def test_problems_read_as_sentences(window, qtbot) -> None:
    window.new_workflow()
    doc = window.doc
    doc.undo_stack.push(AddItemsCommand(doc, [
        {"id": "wait", "type": "delay", "position": {"x": 0, "y": 0},
         "data": {"label": "Wait", "config": {"seconds": 3, "until": "2030-01-01T00:00:00"}}}],
        [], "Add"))
    qtbot.waitUntil(lambda: window.doc.problems != [])
    texts = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert any("set exactly one of 'seconds' or 'until'" in t for t in texts), texts
    assert not any("Value error" in t for t in texts), texts


def test_a_run_interrupted_by_kill_9_is_resumed_and_the_user_told(qtbot, qloop,
                                                                  tmp_path) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys

    from flowdesk.app import build_app
    from flowdesk.model import RunStatus, StepStatus, Workflow
    from flowdesk.store import open_store

    db = tmp_path / "flowdesk.db"
    path = tmp_path / "slow.json"
    path.write_text(json.dumps({"name": "Cool-down", "nodes": [
        {"id": "wait", "type": "delay", "position": {"x": 0, "y": 0},
         "data": {"config": {"seconds": 2}}},
        {"id": "done", "type": "transform", "position": {"x": 300, "y": 0},
         "data": {"config": {"output": "ok"}}}],
        "edges": [{"id": "e1", "source": "wait", "target": "done"}]}))
    store = open_store(db)
    store.save_workflow(Workflow.load(path), new_version=True)
    proc = subprocess.Popen([sys.executable, "-m", "flowdesk", "run", "Cool-down"],
                            env={**os.environ, "FLOWDESK_DB": str(db)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def delay_started() -> bool:
            runs = store.list_runs(workflow="Cool-down")
            step = store.get_step_run(runs[0].id, "wait") if runs else None
            return step is not None and step.status in (StepStatus.RUNNING,
                                                        StepStatus.WAITING)

        qtbot.waitUntil(delay_started, timeout=20000)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    run_id = store.list_runs(workflow="Cool-down")[0].id
    assert store.run_status(run_id) is RunStatus.RUNNING  # interrupted mid-run
    store.close()
    w = build_app(str(db))  # the next start, with housekeeping as the app does it
    qtbot.addWidget(w)
    try:
        assert run_id[:8] in w.last_notice and "'Cool-down'" in w.last_notice
        assert "interrupted" in w.last_notice
        w.first_start()  # opens the only workflow: the resumed run is what it shows
        w.show()
        assert w.doc.name == "Cool-down" and w.current_run == run_id
        qtbot.waitUntil(lambda: w.library.run_status(run_id) is RunStatus.COMPLETED,
                        timeout=20000)
        qtbot.waitUntil(lambda: w.status_label.text().endswith("completed"))
    finally:
        done = qloop.create_task(w.controller.aclose())
        qtbot.waitUntil(done.done, timeout=10000)
        w.library.store.close()
