"""What a person does with the program they double-click, on the real process: started as a
user starts it, driven with the real keyboard and mouse, checked through ``flowdesk``
commands on the same database and through screenshots."""

from __future__ import annotations

import time

from tests.e2e.harness import App, wait_until
from tests.e2e.screen import Screen

# the colours the app draws with (flowdesk/ui/theme.py, light theme)
PORT = "#8b95a3"
COMPLETED = "#16a34a"
PRIMARY = "#4f46e5"


def start_empty(app: App, *args: str) -> None:
    """Start flowdesk on a fresh home folder and choose "Start with an empty workflow"."""
    app.start(*args)
    welcome = app.wait_window("Welcome to flowdesk")
    app.activate(welcome)
    app.key("Escape")
    app.wait_window()
    app.activate()


def restart(app: App) -> None:
    app.start()
    app.wait_window()
    app.activate()


def quit_app(app: App) -> None:
    app.activate()
    app.key("ctrl+q")
    assert app.wait_exit(10) == 0, app.log()


def only_workflow(app: App) -> str:
    names = wait_until("a stored workflow", app.workflow_names)
    assert len(names) == 1, names
    return names[0]


def drag_from_palette(app: App, search: str, to: tuple[int, int]) -> None:
    layout = app.layout()
    app.click(*layout.palette_search())
    app.key("ctrl+a", "BackSpace")
    app.type(search)
    layout = app.layout()  # the list now shows the match first
    app.drag(layout.palette_first_entry(), to)


def test_a_the_app_stays_open_until_the_person_quits(app: App) -> None:
    start_empty(app)
    opened = time.monotonic()
    # open for five seconds (what went wrong before: it closed itself at once)
    while time.monotonic() - opened < 5:
        assert app.alive, f"flowdesk closed by itself:\n{app.log()}"
        time.sleep(0.2)
    assert app.title().endswith("— flowdesk")
    assert (app.home / ".local/share/flowdesk/flowdesk.db").exists()  # its data folder
    app.screenshot("open")
    closing = time.monotonic()
    quit_app(app)
    assert time.monotonic() - closing < 5
    # and it starts again, on the same data
    restart(app)
    assert "Untitled workflow" in app.title()
    quit_app(app)


def test_a_a_file_given_on_the_command_line_stays_open(app: App) -> None:
    from flowdesk.resources import examples_dir

    app.start(str(examples_dir() / "order-batch.json"))
    app.wait_window("Order batch")
    app.window = app.wait_window()
    assert app.title() == "Order batch (version 1) — flowdesk"
    opened = time.monotonic()
    while time.monotonic() - opened < 5:
        assert app.alive, f"flowdesk closed by itself:\n{app.log()}"
        time.sleep(0.2)
    quit_app(app)


def test_b_build_by_mouse_and_keyboard_then_restart(app: App) -> None:
    start_empty(app)
    name = only_workflow(app)
    canvas = app.layout().canvas()
    first, second = canvas.at(0.25, 0.3), canvas.at(0.62, 0.3)
    drag_from_palette(app, "Transform", first)
    wait_until("the dropped step to be saved",
               lambda: len(app.exported(name)["nodes"]) == 1)
    drag_from_palette(app, "Delay", second)
    wait_until("the second step to be saved", lambda: len(app.exported(name)["nodes"]) == 2)
    # connect: from the first step's output port (right edge, middle) to the second step
    shot = Screen.load(app.screenshot("two-steps"))
    port = shot.find_near(first[0] + 110, first[1], PORT, radius=24)
    assert port is not None, "the output port of the first step is not on screen"
    app.drag(port, second)
    flow = wait_until("the connection to be saved", lambda: (
        lambda w: w if w["edges"] else None)(app.exported(name)))
    ids = {n["type"]: n["id"] for n in flow["nodes"]}
    assert [(e["source"], e["target"]) for e in flow["edges"]] == \
        [(ids["transform"], ids["delay"])]
    # select the second step by a click, then type its label into the inspector
    app.click(*second)
    fields = app.layout().inspector_fields()
    assert fields, "the inspector shows no fields for the selected step"
    app.click(*fields[0])  # Label
    app.key("ctrl+a")
    app.type("Cool down")
    app.key("Tab")
    wait_until("the label typed in the inspector to be saved", lambda: any(
        n["data"]["label"] == "Cool down" for n in app.exported(name)["nodes"]))
    app.screenshot("built")
    quit_app(app)

    restart(app)
    again = app.exported(name)
    assert {n["type"] for n in again["nodes"]} == {"transform", "delay"}
    assert len(again["edges"]) == 1
    assert any(n["data"]["label"] == "Cool down" for n in again["nodes"])
    app.screenshot("after-restart")
    quit_app(app)


def test_c_quick_add_by_typing(app: App) -> None:
    start_empty(app)
    name = only_workflow(app)
    canvas = app.layout().canvas()
    app.click(*canvas.at(0.5, 0.5))  # the canvas has the keyboard
    app.key("ctrl+k")
    app.type("http")
    app.screenshot("quick-add")
    app.key("Return")
    flow = wait_until("the step picked by typing to be saved",
                      lambda: app.exported(name)["nodes"])
    app.screenshot("added")  # the app has drawn it: a second add would be saved by now
    assert [n["type"] for n in app.exported(name)["nodes"]] == ["http_request"]
    # Tab opens it too, and what is typed is the filter (not the first entry)
    app.key("Tab")
    app.type("delay")
    app.key("Return")
    flow = wait_until("the second step to be saved",
                      lambda: (lambda n: n if len(n) == 2 else None)(
                          app.exported(name)["nodes"]))
    assert sorted(n["type"] for n in flow) == ["delay", "http_request"]
    quit_app(app)


def test_h_first_start_offers_the_examples(app: App) -> None:
    app.start()
    welcome = app.wait_window("Welcome to flowdesk")
    app.activate(welcome)
    app.screenshot("welcome")
    app.key("Return")  # "Add the examples" is the default button
    names = wait_until("the examples to be stored",
                       lambda: (lambda n: n if len(n) >= 5 else None)(app.workflow_names()))
    assert "Order batch" in names
    app.wait_window()
    wait_until("an example to be open", lambda: any(n in app.title() for n in names))
    app.screenshot("example-open")
    quit_app(app)


def open_example(app: App, file: str, title: str) -> None:
    from flowdesk.resources import examples_dir

    app.start(str(examples_dir() / file))
    app.wait_window(title)
    app.window = app.wait_window()
    app.activate()


def runs(app: App) -> list[dict[str, object]]:
    import json

    return json.loads(app.cli("runs", "--json").stdout)  # type: ignore[no-any-return]


def test_d_run_from_the_keyboard_shows_badges(app: App) -> None:
    open_example(app, "order-batch.json", "Order batch")
    canvas = app.layout().canvas()
    before = Screen.load(app.screenshot("before-run"))
    assert before.share(canvas.x, canvas.y, canvas.w, canvas.h, COMPLETED, 30) < 0.0001
    app.click(*canvas.at(0.5, 0.9))  # empty canvas: the window has the keyboard
    app.key("ctrl+Return")
    dialog = app.wait_window("Run workflow")
    app.activate(dialog)
    app.screenshot("input-dialog")
    app.key("Return")
    done = wait_until("the run to complete", lambda: [r for r in runs(app)
                                                      if r["status"] == "completed"])
    assert len(done) == 1
    # the canvas shows it: completed badges and borders in the completed colour
    wait_until("completed badges on the canvas", lambda: Screen.load(
        app.screenshot("after-run")).share(canvas.x, canvas.y, canvas.w, canvas.h,
                                           COMPLETED, 30) > 0.0008)
    quit_app(app)


def primary_button(screen: Screen, area: tuple[int, int, int, int]) -> tuple[int, int]:
    """The centre of the largest solid block of the primary colour in ``area``: a button, not
    a focus frame (one pixel high) nor a selected list row (left of the area)."""
    x, y, w, h = area
    best: tuple[int, int, int] | None = None  # area, cx, cy
    for row in range(y, y + h, 3):
        for left, right in screen.spans_of(row, x, x + w, PRIMARY, tolerance=12, min_len=40):
            cx = (left + right) // 2
            runs = [r for r in screen.runs_of(cx, y, y + h, PRIMARY, tolerance=12, gap=8,
                                             min_len=14)
                    if r[0] <= row < r[1]]
            if runs:
                top, bottom = runs[0]
                size = (right - left) * (bottom - top)
                if best is None or size > best[0]:
                    best = (size, cx, (top + bottom) // 2)
    assert best is not None, f"no primary button in {area} of {screen.path}"
    return best[1], best[2]


def test_e_approve_a_waiting_run_in_the_inbox(app: App) -> None:
    open_example(app, "approval-gate.json", "Refund approval")
    canvas = app.layout().canvas()
    app.click(*canvas.at(0.5, 0.95))
    app.key("ctrl+Return")
    app.activate(app.wait_window("Run workflow"))
    app.key("Tab")  # order_id → amount
    app.key("ctrl+a")
    app.type("80")
    app.key("Return")
    waiting = wait_until("the run to wait for the approval", lambda: [
        r for r in runs(app) if r["status"] == "paused"])
    run_id = str(waiting[0]["id"])
    app.activate()
    app.key("ctrl+shift+a")  # Run → Approvals inbox: the comment field has the cursor
    app.type("ok by phone")
    window = app.geometry()
    shot = Screen.load(app.screenshot("inbox"))
    below_canvas = canvas.y + canvas.h
    button = primary_button(shot, (window.x + window.w // 2, below_canvas,
                                   window.w // 2, window.y + window.h - below_canvas))
    app.click(*button)
    import json

    def approved() -> dict[str, object] | None:
        shown = json.loads(app.cli("show", run_id, "--json").stdout)
        return shown if shown["steps"]["approve"]["status"] == "completed" else None

    shown = wait_until("the run to go on past the approval", approved)
    approve = shown["steps"]["approve"]
    assert approve["status"] == "completed"
    assert approve["output"]["approved"] is True
    assert approve["output"]["comment"] == "ok by phone"
    assert shown["steps"]["confirmed"]["status"] == "waiting"  # the next wait, for an event
    app.screenshot("approved")
    quit_app(app)


def edit_three_steps(app: App, name: str) -> None:
    """Add two steps from the palette, connect them, move one, add a third connected by
    quick-add, then delete the first: five kinds of edit."""
    canvas = app.layout().canvas()
    a, b = canvas.at(0.17, 0.25), canvas.at(0.6, 0.25)
    drag_from_palette(app, "Transform", a)
    wait_until("step 1 saved", lambda: len(app.exported(name)["nodes"]) == 1)
    drag_from_palette(app, "Delay", b)
    wait_until("step 2 saved", lambda: len(app.exported(name)["nodes"]) == 2)
    port = Screen.load(app.screenshot("ports")).find_near(a[0] + 110, a[1], PORT, radius=16)
    assert port is not None
    app.drag(port, b)
    wait_until("the connection saved", lambda: len(app.exported(name)["edges"]) == 1)
    def delay_y() -> float:
        return next(n["position"]["y"] for n in app.exported(name)["nodes"]
                    if n["type"] == "delay")

    y_before = delay_y()
    moved_to = (b[0], b[1] + 140)
    app.drag(b, moved_to)
    wait_until("the move saved", lambda: delay_y() >= y_before + 100)
    app.click(*moved_to)  # selected: quick-add connects the new step after it
    app.key("ctrl+k")
    app.type("condition")
    app.key("Return")
    wait_until("step 3 saved", lambda: len(app.exported(name)["nodes"]) == 3)
    app.click(*a)
    app.key("Delete")
    wait_until("the delete saved", lambda: len(app.exported(name)["nodes"]) == 2)


def test_f_undo_everything_then_redo_everything(app: App) -> None:
    start_empty(app)
    name = only_workflow(app)
    start = app.cli("export", name, "--draft").stdout
    edit_three_steps(app, name)
    edited = app.cli("export", name, "--draft").stdout
    app.screenshot("edited")
    canvas = app.layout().canvas()
    app.click(*canvas.at(0.9, 0.05))  # empty canvas
    for _ in range(40):
        if app.cli("export", name, "--draft").stdout == start:
            break
        app.key("ctrl+z")
        time.sleep(0.05)  # a person's pace between presses; the result is polled below
    wait_until("undo to come back to the start, byte for byte",
               lambda: app.cli("export", name, "--draft").stdout == start, timeout=5)
    for _ in range(40):
        if app.cli("export", name, "--draft").stdout == edited:
            break
        app.key("ctrl+shift+z")
        time.sleep(0.05)
    wait_until("redo to come back to the edited workflow, byte for byte",
               lambda: app.cli("export", name, "--draft").stdout == edited, timeout=5)
    quit_app(app)


def test_g_killed_while_editing_loses_nothing(app: App) -> None:
    start_empty(app)
    name = only_workflow(app)
    edit_three_steps(app, name)
    edited = app.cli("export", name, "--draft").stdout
    app.kill()  # SIGKILL: no close event, no last save
    restart(app)
    assert app.cli("export", name, "--draft").stdout == edited
    assert not (app.home / ".local/share/flowdesk/logs/crash.log").exists(), app.log()
    app.screenshot("after-kill")
    assert app.title().startswith(name)
    quit_app(app)
