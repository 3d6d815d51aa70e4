"""The desktop app's composition root: Qt application, qasync loop, store, engine,
RunController, library and main window. ``run_app`` is what ``flowdesk`` (no command) runs."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType

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

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
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


def build_app(db: str | None = None, *, housekeeping: bool = True):  # type: ignore[no-untyped-def]
    """Create store, engine, controller, library and window (for run_app and for tests)."""
    from flowdesk.document.library import WorkflowLibrary
    from flowdesk.document.run_controller import RunController
    from flowdesk.engine import Engine, Services
    from flowdesk.engine.functions import default_functions
    from flowdesk.paths import plugin_dir
    from flowdesk.secrets import SecretResolver, SecretStore
    from flowdesk.steps import default_registry
    from flowdesk.store import open_store
    from flowdesk.ui.main_window import MainWindow

    store = open_store(db)
    services = Services(functions=default_functions(plugin_dir()))
    services.secrets = SecretResolver(SecretStore())
    engine = Engine(store, default_registry(), services=services)
    controller = RunController(engine)
    library = WorkflowLibrary(store, engine.registry)
    window = MainWindow(library, controller)
    if housekeeping:
        controller.start_housekeeping()
    return window


async def _start_service(window: object) -> object:
    """Run the webhook/schedule service while the app is open (setting ``serve.in_app``,
    on by default; port ``serve.port``, default 8686). A busy port is reported, not fatal."""
    from flowdesk.service import TriggerService

    store = window.library.store  # type: ignore[attr-defined]
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT") or not store.get_setting("serve.in_app", True):
        return None
    service = TriggerService(window.controller.engine, "127.0.0.1",  # type: ignore[attr-defined]
                             int(store.get_setting("serve.port", 8686)))
    try:
        await service.start()
    except OSError as exc:
        window.notify(f"Webhooks and schedules are off: port {service.port} is busy "  # type: ignore[attr-defined]
                      f"({exc.strerror}); `flowdesk config serve.port N` picks another")
        return None
    return service


def run_app(db: str | None = None, open_file: str | None = None) -> int:
    """Open the main window and keep it open until the person closes it (or the app is asked
    to quit); then stop the trigger service, let the engine put its runs down cleanly and close
    the store. Returns the process exit status."""
    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from flowdesk.resources import icons_dir
    from flowdesk.ui import theme
    from flowdesk.ui.main_window import app_settings

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("flowdesk")
    app.setDesktopFileName("flowdesk")
    app.setWindowIcon(QIcon(str(icons_dir() / "flowdesk.svg")))
    # The window decides when the session ends (its closeEvent saves first). Qt's own "quit on
    # last window closed" would end QApplication.exec() under qasync before the clean-up ran.
    app.setQuitOnLastWindowClosed(False)
    theme.apply_theme(app, str(app_settings().value("theme", "light")))
    _install_excepthook()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_app(db)
    closed = asyncio.Event()  # bound to the loop on first wait; connected before any close
    window.closed.connect(closed.set)
    if open_file:
        window.open_file(open_file)
    else:
        window.first_start()
    window.show()
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT"):
        # the start-up benchmark only: report the first paint, then close as a user would
        from PySide6.QtCore import QTimer

        def painted() -> None:
            print(f"flowdesk: first paint, title={window.windowTitle()!r}", file=sys.stderr,
                  flush=True)
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
    window.library.store.close()
    return 0


async def _session(window: object, closed: asyncio.Event) -> None:
    """The app's lifetime: start the trigger service, wait for the window to close, clean up."""
    service = await _start_service(window)
    try:
        await closed.wait()
    finally:
        await _shutdown(window, service)


async def _shutdown(window: object, service: object) -> None:
    if service is not None:
        await service.stop()  # type: ignore[attr-defined]
    await window.controller.aclose()  # type: ignore[attr-defined]
