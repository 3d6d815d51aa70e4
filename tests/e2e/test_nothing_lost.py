"""Nothing a person does is lost (issue 18), on the real process: fields cleared and
mistyped, then a SIGKILL; undo and redo while the inspector is open."""

from __future__ import annotations

from tests.e2e.harness import App, wait_until
from tests.e2e.test_journeys import drag_from_palette, only_workflow, quit_app, restart, start_empty


def the_node(app: App, name: str) -> dict:
    nodes = app.exported(name)["nodes"]
    assert len(nodes) == 1, nodes
    return nodes[0]  # type: ignore[no-any-return]


def add_one_step(app: App, search: str) -> tuple[str, tuple[int, int]]:
    start_empty(app)
    name = only_workflow(app)
    at = app.layout().canvas().at(0.4, 0.35)
    drag_from_palette(app, search, at)
    wait_until("the dropped step to be saved", lambda: app.exported(name)["nodes"])
    app.click(*at)  # selected: the inspector shows its form
    return name, at


def inspector_fields(app: App, count: int) -> list[tuple[int, int]]:
    return wait_until(f"{count} fields in the inspector", lambda: (
        lambda f: f if len(f) >= count else None)(app.layout().inspector_fields()))


def retype(app: App, field: tuple[int, int], text: str) -> None:
    app.click(*field)
    app.key("ctrl+a", "BackSpace")
    if text:
        app.type(text)


def test_clear_fields_edit_on_kill_and_find_everything(app: App) -> None:
    name, _ = add_one_step(app, "Delay")
    # Label, Seconds, Until, Timeout: the one-line fields of a Delay, top to bottom
    label, seconds, until, timeout = inspector_fields(app, 4)[:4]
    retype(app, seconds, "5")
    retype(app, until, "{{ input.when }}")
    wait_until("both values saved", lambda: the_node(app, name)["data"]["config"] == {
        "seconds": 5, "until": "{{ input.when }}"})
    # clear a number field and a text field (what once stopped every later save)
    retype(app, until, "")
    retype(app, seconds, "")
    wait_until("the cleared fields saved", lambda: the_node(app, name)["data"]["config"]
               == {})
    # edit on: a label, a timeout typed wrong (kept as typed), a move of the step
    retype(app, label, "Cool down")
    retype(app, timeout, "3O")
    app.key("Tab")
    saved = wait_until("the later edits saved", lambda: (lambda n: n if n["data"].get(
        "label") == "Cool down" and n["data"].get("drafts") else None)(the_node(app, name)))
    assert saved["data"]["drafts"] == {"@timeout_seconds": "3O"}
    assert "NOT SAVED" not in app.title()
    app.screenshot("before-kill")
    edited = app.cli("export", name, "--draft").stdout
    app.kill()  # SIGKILL: no close event, no last save

    restart(app)
    assert app.cli("export", name, "--draft").stdout == edited
    node = the_node(app, name)
    assert node["data"]["label"] == "Cool down" and node["data"]["config"] == {}
    assert node["data"]["drafts"] == {"@timeout_seconds": "3O"}
    assert not (app.home / ".local/share/flowdesk/logs/crash.log").exists(), app.log()
    app.screenshot("after-restart")
    quit_app(app)


def test_undo_and_redo_with_the_inspector_open(app: App) -> None:
    """The Method choice, then Ctrl+Z with the choice still focused: the form must show GET
    again. Read back through the keyboard: Down from GET picks POST, from a stale POST it
    would pick PUT."""
    start_empty(app)
    name = only_workflow(app)
    app.click(*app.layout().canvas().at(0.5, 0.5))  # the canvas has the keyboard
    app.key("ctrl+k")
    app.type("http")
    app.key("Return")  # quick-add: the new step is selected, its form in the inspector
    wait_until("the HTTP request step saved", lambda: [
        n for n in app.exported(name)["nodes"] if n["type"] == "http_request"])
    label, method = inspector_fields(app, 2)[:2]
    app.click(*method)  # opens the list of methods
    app.key("Down", "Return")  # GET → POST
    wait_until("POST saved", lambda: the_node(app, name)["data"]["config"].get("method")
               == "POST")
    app.screenshot("post")
    app.key("ctrl+z")
    wait_until("the undo saved", lambda: "method" not in the_node(app, name)["data"]["config"])
    app.screenshot("undone")
    app.key("Down")  # the choice has the keyboard: one step down from what it shows
    wait_until("the form to have shown GET after undo", lambda: the_node(app, name)["data"][
        "config"].get("method") == "POST", timeout=5)
    app.key("ctrl+z")  # back to no method; then redo brings POST back, and the form too
    wait_until("undo again", lambda: "method" not in the_node(app, name)["data"]["config"])
    app.key("ctrl+shift+z")
    wait_until("the redo saved", lambda: the_node(app, name)["data"]["config"].get("method")
               == "POST")
    app.key("Down")
    wait_until("the form to have shown POST after redo", lambda: the_node(app, name)["data"][
        "config"].get("method") == "PUT", timeout=5)
    # the label retyped, then Ctrl+Z in that field: the field's own undo, and the document
    # follows it (nothing is shown that is not stored)
    before = the_node(app, name)["data"]["label"]
    app.click(*label)
    app.key("ctrl+a")
    app.type("Probe")
    wait_until("the label saved", lambda: the_node(app, name)["data"]["label"] == "Probe")
    for _ in range(4):
        if the_node(app, name)["data"]["label"] == before:
            break
        app.key("ctrl+z")
        wait_until("the label to change back", lambda: the_node(app, name)["data"]["label"]
                   != "Probe", timeout=5)
    assert the_node(app, name)["data"]["label"] == before
    app.screenshot("after-undo")
    quit_app(app)
