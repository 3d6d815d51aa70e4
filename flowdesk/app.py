"""The desktop app: the Qt application, the qasync loop, and the window on the runtime.

The parts that run workflows (store, steps, secrets, functions, engine) come from
``flowdesk.runtime.build_runtime``, as for the command line and ``flowdesk serve``; this module
adds what only the app has: the run controller, the library, the main window, the trigger
server while the window is open, the crash log and its dialog. ``run_app`` is what
``flowdesk`` (no command) runs; ``build_app`` builds the window for tests."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowdesk.model.errors import FlowdeskError
    from flowdesk.runtime import Runtime
    from flowdesk.trigger_server import TriggerServer
    from flowdesk.ui.main_window import MainWindow

__all__ = ["build_app", "run_app"]

log = logging.getLogger(__name__)


def _crash_log() -> Path:
    from flowdesk.paths import data_dir

    folder = data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "crash.log"


_open_dialogs: list[object] = []  # error dialogs stay alive until the user closes them


def _show_error_dialog(value: BaseException, path: Path) -> None:
    """A non-modal error dialog over the main window; kept referenced while it is open
    (a parentless local dialog would be destroyed before it ever appeared)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

    from flowdesk.ui.splash import close_splash

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    close_splash()  # a failure during start-up: its message is not hidden behind the splash
    parent = app.activeWindow() or next(
        (w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()),
        None)
    box = QMessageBox(QMessageBox.Icon.Critical, "flowdesk",
                      f"Something went wrong: {value}\n\nThe details were written to {path}. "
                      "Edits are saved automatically; if the title bar says NOT SAVED, the "
                      "status bar says why.", QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_dialogs.append(box)
    box.finished.connect(lambda _result: _open_dialogs.remove(box)
                         if box in _open_dialogs else None)
    box.open()


def _cannot_start(exc: FlowdeskError) -> None:
    """Say why the app cannot start in a dialog (whoever double-clicked it has no terminal
    to read stderr on) and wait until it is read; the command line then prints it too."""
    from PySide6.QtWidgets import QMessageBox

    QMessageBox(QMessageBox.Icon.Critical, "flowdesk cannot start",
                f"flowdesk cannot start: {exc}", QMessageBox.StandardButton.Ok).exec()


def _install_excepthook() -> None:
    def hook(kind: type[BaseException], value: BaseException,
             tb: TracebackType | None) -> None:
        path = _crash_log()
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            f.write("".join(traceback.format_exception(kind, value, tb)))
        log.error("unexpected error, written to %s", path)
        try:
            _show_error_dialog(value, path)
        except Exception:
            log.exception("cannot show the error dialog")

    sys.excepthook = hook


def build_app(db: str | None = None, *, housekeeping: bool = True,
              watch: bool = True) -> MainWindow:
    """Build the runtime (flowdesk.runtime) and the window on it (for run_app and for tests)."""
    from flowdesk.runtime import build_runtime

    return _window(build_runtime(db), housekeeping=housekeeping, watch=watch)


def _window(runtime: Runtime, *, housekeeping: bool, watch: bool = True) -> MainWindow:
    """The run controller, the library and the main window, on the runtime's parts; a
    plugin or entry point that could not be loaded is told in the status bar. ``watch``:
    follow the runs other processes change on the database (live on PostgreSQL)."""
    from flowdesk.document.library import WorkflowLibrary
    from flowdesk.document.run_controller import RunController
    from flowdesk.ui.main_window import MainWindow

    controller = RunController(runtime.engine)
    library = WorkflowLibrary(runtime.store, runtime.registry)
    window = MainWindow(library, controller)
    for problem in runtime.load_errors:  # a plugin that did not load is said, not dropped
        window.notify(f"Not loaded: {problem}")
    if housekeeping:
        controller.start_housekeeping()
    if watch:
        controller.watch(runtime.store.run_feed())
    return window


async def _start_service(window: MainWindow) -> TriggerServer | None:
    """Run the webhook/schedule server while the app is open (setting ``serve.in_app``,
    on by default; port ``serve.port``, default 8686), on the window's engine and store (the
    runtime's). A busy port is reported, not fatal."""
    from flowdesk.trigger_server import TriggerServer

    store = window.library.store
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT") or not store.get_setting("serve.in_app", True):
        return None
    service = TriggerServer(window.controller.engine, "127.0.0.1",
                             int(store.get_setting("serve.port", 8686)))
    try:
        await service.start()
    except OSError as exc:
        window.notify(f"Webhooks and schedules are off: port {service.port} is busy "
                      f"({exc.strerror}); `flowdesk config serve.port N` picks another")
        return None
    return service


def run_app(db: str | None = None, open_file: str | None = None) -> int:
    """Open the main window and keep it open until the person closes it (or the app is asked
    to quit); then stop the trigger service, let the engine put its runs down cleanly and close
    the store. Returns the process exit status."""
    import qasync
    from PySide6.QtWidgets import QApplication

    from flowdesk.model.errors import FlowdeskError
    from flowdesk.runtime import build_runtime
    from flowdesk.ui import theme
    from flowdesk.ui.main_window import app_settings
    from flowdesk.ui.splash import close_splash, finish_splash, identify_app

    # the QApplication exists already when flowdesk.__main__ showed the start-up splash
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    identify_app(app)
    # The window decides when the session ends (its closeEvent saves first). Qt's own "quit on
    # last window closed" would end QApplication.exec() under qasync before the clean-up ran.
    app.setQuitOnLastWindowClosed(False)
    theme.apply_theme(app, str(app_settings().value("theme", "light")))
    _install_excepthook()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        runtime = build_runtime(db)
        window = _window(runtime, housekeeping=True)
    except BaseException as exc:
        close_splash()  # what went wrong is told next: not behind the splash
        if isinstance(exc, FlowdeskError):  # e.g. a database refused: said on stderr too
            _cannot_start(exc)
        raise
    closed = asyncio.Event()  # bound to the loop on first wait; connected before any close
    window.closed.connect(closed.set)
    if open_file:
        window.open_file(open_file)
    else:
        window.first_start()
    window.show()
    finish_splash(window)  # closed once the window has painted (the loop below paints it)
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT"):
        # the start-up benchmark only: report the first paint, then close as a user would
        from PySide6.QtCore import QTimer

        def painted() -> None:
            print(f"flowdesk: first paint at {time.time():.6f}, "
                  f"title={window.windowTitle()!r}", file=sys.stderr, flush=True)
            window.close()

        window.repaint()
        QTimer.singleShot(0, painted)
    with loop:
        # One run_until_complete for the whole session: on a qasync loop each call runs and
        # then ends QApplication.exec(), which emits aboutToQuit; several calls made the app
        # quit as soon as its window appeared (ENVIRONMENT.md, "qasync trap").
        try:
            loop.run_until_complete(_session(window, closed))
        except RuntimeError as exc:
            # QApplication.quit() from outside (a session manager logging out) ends exec()
            # before the session coroutine finished: finish the clean-up on its own.
            log.info("event loop ended early (%s); closing down", exc)
            loop.run_until_complete(_shutdown(window, None))
    runtime.store.close()
    return 0


async def _session(window: MainWindow, closed: asyncio.Event) -> None:
    """The app's lifetime: start the trigger server, wait for the window to close, clean up."""
    service = await _start_service(window)
    try:
        await closed.wait()
    finally:
        await _shutdown(window, service)


async def _shutdown(window: MainWindow, service: TriggerServer | None) -> None:
    if service is not None:
        await service.stop()
    await window.controller.aclose()  # stops the engine's services; the store closes last
