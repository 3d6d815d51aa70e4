"""Testing one step on the real program: a pinned step is marked on the canvas; a person
selects a step by mouse, presses Test step in the inspector, and sees the result in the Step
tab without a run being recorded; then runs to that step with Ctrl+Shift+Enter."""

from __future__ import annotations

import json

from tests.e2e.harness import App, Rect, wait_until
from tests.e2e.screen import Screen
from tests.e2e.test_journeys import COMPLETED, primary_button, quit_app, runs

PIN = "#7c3aed"  # flowdesk/ui/canvas/pin_mark.py
NODE = "#ffffff"


def node_row(screen: Screen, canvas: Rect) -> list[tuple[int, int, int]]:
    """The steps of the row with the most steps side by side: (left, right, y) each."""
    best: list[tuple[int, int, int]] = []
    for y in range(canvas.y + 10, canvas.y + canvas.h - 10, 3):
        spans = screen.spans_of(y, canvas.x, canvas.x + canvas.w, NODE, tolerance=4,
                                gap=4, min_len=40)
        if len(spans) > len(best):
            best = [(left, right, y) for left, right in spans]
    return best


def test_i_test_a_step_on_a_pin_then_run_to_here(app: App) -> None:
    from flowdesk.resources import examples_dir

    app.cli("import", str(examples_dir() / "order-batch.json"))
    app.cli("pin", "Order batch", "price",
            json.dumps({"results": [{"result": {"id": "E2E-1", "gross": 900}}]}))
    app.start()
    app.wait_window("Order batch")
    app.window = app.wait_window()
    app.activate()
    layout = app.layout()
    canvas = layout.canvas()
    screen = layout.screen
    # the pinned step carries the pin mark, and only it
    assert screen.share(canvas.x, canvas.y, canvas.w, canvas.h, PIN, 30) > 0.00002
    row = wait_until("the steps on the canvas", lambda: len(node_row(
        Screen.load(app.screenshot("canvas")), canvas)) >= 4 and node_row(
        Screen.load(app.screenshot("canvas")), canvas))
    price, totals = row[0], row[1]
    assert screen.find_near(price[1] - 10, price[2] - 20, PIN, radius=40) is not None
    assert screen.find_near(totals[1] - 10, totals[2] - 20, PIN, radius=40) is None

    app.click((totals[0] + totals[1]) // 2, totals[2] + 12)  # select "Totals"
    win = app.geometry()
    inspector = (win.x + win.w - 380, win.y + 60, 380, canvas.y + canvas.h // 2 - win.y)
    shot = wait_until("the inspector's Test step button", lambda: (
        lambda s: s if s.share(*inspector, "#4f46e5", 12) > 0.003 else None)(
        Screen.load(app.screenshot("selected"))))
    # the Step tab shows the result ("completed" in green) below the canvas
    title_row = (win.x, canvas.y + canvas.h + 30, win.w, 80)  # under the panel's tabs
    assert Screen.load(app.screenshot("before-test")).share(*title_row, COMPLETED, 30) == 0
    app.click(*primary_button(shot, inspector))

    def result_shown() -> bool:
        return Screen.load(app.screenshot("tested")).share(*title_row, COMPLETED, 30) > 0.0003

    wait_until("the test result in the Step tab", result_shown)
    assert runs(app) == []  # a test records no run
    assert "NOT SAVED" not in app.title()

    # Run to here, from the keyboard, with Totals still selected
    app.activate()
    app.click((totals[0] + totals[1]) // 2, totals[2] + 12)
    app.key("ctrl+shift+Return")
    dialog = app.wait_window("Run to 'totals'")
    app.activate(dialog)
    app.key("Return")
    done = wait_until("the run to here to complete",
                      lambda: [r for r in runs(app) if r["status"] == "completed"])
    shown = json.loads(app.cli("show", str(done[0]["id"]), "--json").stdout)
    assert sorted(shown["steps"]) == ["price", "totals"]
    # pins never replace a step in a run: price really ran on the sample orders
    assert shown["steps"]["totals"]["output"]["large"] == ["A-1002"]
    app.screenshot("after-run-to-here")
    quit_app(app)
