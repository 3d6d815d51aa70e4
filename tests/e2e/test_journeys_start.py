"""Starting the program as a person does: the start-up splash appears first (a splash-type
window of the app's process, never titled like the main window), the main window follows and
the splash is gone, and what is typed at once goes to the main window — the splash did not
take the keyboard, and nothing had to be clicked first."""

from __future__ import annotations

from tests.e2e.harness import App, wait_until
from tests.e2e.test_journeys import quit_app

SPLASH_TITLE = "Starting flowdesk"  # flowdesk/ui/splash.py


def visible_splashes(app: App) -> list[str]:
    """The app's visible windows that are its splash: titled so, and of the splash type."""
    assert app.proc is not None
    found = app.x(["xdotool", "search", "--onlyvisible", "--pid", str(app.proc.pid),
                   "--name", f"^{SPLASH_TITLE}$"], check=False).split()
    return [win for win in found if "_NET_WM_WINDOW_TYPE_SPLASH" in app.x(
        ["xprop", "-id", win, "_NET_WM_WINDOW_TYPE"], check=False)]


def test_a_the_splash_comes_first_and_the_main_window_takes_the_keyboard(app: App) -> None:
    from flowdesk.resources import examples_dir

    app.cli("import", str(examples_dir() / "order-batch.json"))  # no welcome: it opens this
    app.start()  # no arguments: a double-click
    # the splash is up while flowdesk loads (a few hundred ms): look often
    splash = wait_until("the start-up splash", lambda: visible_splashes(app), timeout=30,
                        interval=0.02)
    app.screenshot("splash")
    assert len(splash) == 1
    app.window = app.wait_window()  # "Order batch (version 1) — flowdesk": not the splash
    assert app.window not in splash and app.title().endswith("— flowdesk")
    wait_until("the splash to be gone", lambda: not visible_splashes(app))
    # the main window has the keyboard by itself: no activation, no click
    wait_until("the main window to have the keyboard", lambda: app.x(
        ["xdotool", "getactivewindow"], check=False).strip() == app.window)
    app.layout()  # painted
    app.screenshot("main-window")
    app.key("ctrl+n")
    wait_until("the new workflow to be stored",
               lambda: "Untitled workflow" in app.workflow_names())
    app.key("ctrl+k")
    app.type("delay")
    app.key("Return")
    wait_until("the step added by typing to be saved", lambda: [
        n["type"] for n in app.exported("Untitled workflow")["nodes"]] == ["delay"])
    app.screenshot("typed")
    quit_app(app)
