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


def _install_excepthook() -> None:
    def hook(kind: type[BaseException], value: BaseException,
             tb: TracebackType | None) -> None:
        path = _crash_log()
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            f.write("".join(traceback.format_exception(kind, value, tb)))
        log.error("unexpected error, written to %s", path)
        try:
            from PySide6.QtWidgets import QApplication, QMessageBox

            if QApplication.instance() is not None:
                box = QMessageBox(QMessageBox.Icon.Critical, "flowdesk",
                                  f"Something went wrong: {value}\n\nThe details were written "
                                  f"to {path}. Your work is saved.")
                box.open()
        except Exception:
            pass

    sys.excepthook = hook


def build_app(db: str | None = None, *, housekeeping: bool = True):  # type: ignore[no-untyped-def]
    """Create store, engine, controller, library and window (for run_app and for tests)."""
    from flowdesk.document.library import WorkflowLibrary
    from flowdesk.document.run_controller import RunController
    from flowdesk.engine import Engine, Services
    from flowdesk.engine.functions import default_functions
    from flowdesk.paths import plugin_dir
    from flowdesk.secrets import SecretResolver, SecretStore
    from flowdesk.store import open_store
    from flowdesk.ui.main_window import MainWindow

    store = open_store(db)
    services = Services(functions=default_functions(plugin_dir()))
    services.secrets = SecretResolver(SecretStore())
    engine = Engine(store, services=services)
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
    theme.apply_theme(app, str(app_settings().value("theme", "light")))
    _install_excepthook()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_app(db)
    if open_file:
        window.open_file(open_file)
    else:
        window.first_start()
    window.show()
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT"):
        # smoke tests and the start-up benchmark: report the first paint, then quit
        from PySide6.QtCore import QTimer

        def painted() -> None:
            print(f"flowdesk: first paint, title={window.windowTitle()!r}", file=sys.stderr,
                  flush=True)
            app.quit()

        window.repaint()
        QTimer.singleShot(0, painted)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        service = loop.run_until_complete(_start_service(window))
        loop.run_until_complete(closed.wait())
        if service is not None:
            loop.run_until_complete(service.stop())
        loop.run_until_complete(window.controller.aclose())
    window.library.store.close()
    return 0
