"""The window as a desktop app keeps it: geometry and docks across restarts, usable at
1280×720, a minimap the user can hide and that never covers the selection."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDockWidget

from flowdesk.ui.main_window import MainWindow
from tests.ui.conftest import save_artifact


def _second_window(qtbot, qloop, tmp_path: Path) -> MainWindow:
    """The app started again on the same data folder (settings) and database."""
    from flowdesk.app import build_app

    w = build_app(str(tmp_path / "flowdesk.db"), housekeeping=False)
    qtbot.addWidget(w)
    return w


def _close(qtbot, qloop, w: MainWindow) -> None:
    done = qloop.create_task(w.controller.aclose())
    qtbot.waitUntil(done.done, timeout=10000)


def test_geometry_and_dock_layout_come_back_after_a_restart(window, qtbot, qloop,
                                                            tmp_path) -> None:
    window.new_workflow()
    window.resize(700, 480)
    window.move(30, 40)
    run_dock = window.findChild(QDockWidget, "dock_Run")
    steps_dock = window.findChild(QDockWidget, "dock_Steps")
    steps_dock.hide()
    window.resizeDocks([run_dock], [180], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: abs(run_dock.height() - 180) <= 4)
    window.menus.act_minimap.trigger()  # View → Minimap, unticked
    assert not window.view.minimap.isVisible()
    height = run_dock.height()
    window.close()
    again = _second_window(qtbot, qloop, tmp_path)
    try:
        again.show()
        assert (again.width(), again.height()) == (700, 480)
        assert again.pos() == window.pos()
        assert not again.findChild(QDockWidget, "dock_Steps").isVisible()
        qtbot.waitUntil(lambda: abs(again.findChild(QDockWidget, "dock_Run").height()
                                    - height) <= 4)
        assert not again.menus.act_minimap.isChecked()
        assert not again.view.minimap.isVisible()
    finally:
        _close(qtbot, qloop, again)


def test_every_panel_is_reachable_at_1280_by_720(window, qtbot) -> None:
    from flowdesk.resources import examples_dir

    names = window.library.import_examples(examples_dir())
    window.open_workflow(names[0])
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size().height() == 720)
    inside = window.rect()
    for name in ("dock_Steps", "dock_Inspector", "dock_Run"):
        dock = window.findChild(QDockWidget, name)
        assert dock.isVisible(), name
        area = QRect(dock.mapTo(window, dock.rect().topLeft()), dock.size())
        assert inside.contains(area), (name, area)
    bar = window.statusBar()
    assert inside.contains(QRect(bar.mapTo(window, bar.rect().topLeft()), bar.size()))
    assert window.minimumSizeHint().height() <= 720 - 40  # room for the title bar
    # the run panel is not a third of the window, the canvas keeps most of the height
    assert window.findChild(QDockWidget, "dock_Run").height() < 720 / 3
    assert window.view.viewport().height() >= 360
    save_artifact(window, "window-1280x720.png")


def test_the_minimap_moves_away_from_the_selection_and_hides_when_small(window, qtbot) -> None:
    from tests.ui.test_canvas_gestures import _three

    window.new_workflow()
    _three(window)
    minimap = window.view.minimap
    assert minimap.isVisible()
    # put step c right under the minimap's corner, then select it
    corner = minimap.geometry().center()
    item = window.scene.node_items["c"]
    window.view.centerOn(item.sceneBoundingRect().center()
                         - (window.view.mapToScene(corner)
                            - window.view.mapToScene(window.view.viewport().rect().center())))
    target = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    assert target.intersects(minimap.geometry())
    window.scene.select_nodes(["c"])
    assert minimap.isVisible()
    assert not minimap.geometry().intersects(target)
    # a canvas too small for it: no minimap covering half of it
    window.resize(700, 500)
    qtbot.waitUntil(lambda: not minimap.isVisible())
    window.resize(1400, 900)
    qtbot.waitUntil(minimap.isVisible)
    assert minimap.width() <= window.view.viewport().width() * 0.2 + 1


def test_the_approvals_tab_shows_its_buttons_without_scrolling_when_there_is_room(
        window, qtbot) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QScrollArea

    from flowdesk.model import RunStatus
    from tests.ui.test_runs import open_example

    open_example(window, "approval-gate.json", "Refund approval")
    run_id = window.start_run({"order_id": "Q-9", "amount": 120, "reason": "late"})
    qtbot.waitUntil(lambda: window.library.run_status(run_id) is RunStatus.PAUSED,
                    timeout=20000)
    window.runs.show_approvals()
    page = window.tabs.currentWidget()
    assert isinstance(page, QScrollArea) and page.widget() is window.approvals
    button = window.approvals.approve

    def button_on_screen() -> bool:
        top_left = button.mapTo(page.viewport(), QPoint(0, 0))
        return page.viewport().rect().contains(
            QRect(top_left, button.size()).adjusted(0, 0, -1, -1))

    qtbot.waitUntil(button_on_screen)
    assert window.approvals.comment.hasFocus()
    # the canvas keeps at least half of the height
    assert window.view.height() >= window.findChild(QDockWidget, "dock_Run").height() - 60
