"""The start-up splash (flowdesk.ui.splash): what it shows, that it stays until the main window
has painted, and that nothing the app says at start-up (the welcome, a question about a file,
an error) is left behind it. On a real screen: tests/e2e/test_journeys_start.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from shiboken6 import isValid

from flowdesk.ui.splash import (
    SPLASH_TITLE,
    close_splash,
    current_splash,
    finish_splash,
    show_splash,
)
from tests.ui.conftest import save_artifact


@pytest.fixture(autouse=True)
def _no_splash_left() -> Iterator[None]:
    yield
    close_splash()


def test_the_splash_shows_the_icon_the_name_and_the_database(qtbot) -> None:
    splash = show_splash("postgresql://ann:secret@db.example/flows")
    assert current_splash() is splash and splash.isVisible()
    assert splash.windowTitle() == SPLASH_TITLE and "— flowdesk" not in SPLASH_TITLE
    assert splash.windowFlags() & Qt.WindowType.SplashScreen == Qt.WindowType.SplashScreen
    assert splash.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert splash.focusPolicy() == Qt.FocusPolicy.NoFocus
    image = QImageOf(save_artifact(splash, "splash.png"))
    w, h = image.width(), image.height()
    # the icon's indigo at the left, dark text (the name) and grey text (the database) to
    # its right, white around
    assert image.share(0, 0, w // 4, h, "#4f46e5", 40) > 0.02
    assert image.share(w // 4, 0, w, h // 2 + 10, "#1f2937", 40) > 0.01
    assert image.share(w // 4, h // 2, w, h, "#6b7280", 40) > 0.005
    assert image.share(0, 0, w, h, "#ffffff", 8) > 0.6
    # the line names the database, not who logs in to it
    from flowdesk.ui import splash as module

    line = module._picture(QApplication.windowIcon(), "Opening db.example/flows…")
    assert line.toImage() == splash.picture.toImage()


def gone(splash: QWidget) -> bool:
    """Closed (and maybe deleted already: close_splash deletes it later)."""
    return current_splash() is None and (not isValid(splash) or not splash.isVisible())


def test_the_splash_stays_until_the_main_window_has_painted(qtbot, monkeypatch) -> None:
    from flowdesk.ui import splash as module

    monkeypatch.setattr(module, "_LONGEST_WAIT_MS", 600_000)  # only the paint closes it here
    splash = show_splash("flowdesk.db")
    window = QWidget()
    qtbot.addWidget(window)
    window.setWindowTitle("Untitled workflow — flowdesk")
    window.show()
    finish_splash(window)
    assert splash.isVisible()  # not before the window has painted: no blank moment
    qtbot.waitUntil(lambda: gone(splash), timeout=10000)


def test_the_welcome_is_not_opened_behind_the_splash(window, qtbot) -> None:
    splash = show_splash("flowdesk.db")
    window.first_start()  # a new user: the welcome is the first thing start-up asks
    assert window.welcome.isVisible()
    assert gone(splash)
    window.welcome.empty.click()


def test_a_question_about_the_file_is_not_asked_behind_the_splash(window, qtbot,
                                                                  tmp_path: Path) -> None:
    from flowdesk.resources import examples_dir

    original = examples_dir() / "order-batch.json"
    window.open_file(str(original))
    changed = tmp_path / "order-batch.json"
    flow = json.loads(original.read_text())
    flow["nodes"] = flow["nodes"][:1]
    flow["edges"] = []
    changed.write_text(json.dumps(flow))
    splash = show_splash("flowdesk.db")
    box = window.open_file(str(changed))  # `flowdesk FILE.json` with a file already stored
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert gone(splash)
    box.reject()


def test_an_error_during_start_up_is_not_shown_behind_the_splash(qtbot, tmp_path) -> None:
    from flowdesk.app import _show_error_dialog

    splash = show_splash("flowdesk.db")
    _show_error_dialog(RuntimeError("boom at start"), tmp_path / "crash.log")
    box = next(w for w in QApplication.topLevelWidgets()
               if isinstance(w, QMessageBox) and "boom at start" in w.text())
    assert gone(splash)
    box.accept()


def test_a_refused_database_is_told_in_a_dialog_and_leaves_no_window(tmp_path: Path) -> None:
    # the program's own start-up (flowdesk.__main__.run) on a file that is not a database:
    # the splash was shown, start-up ended with the error, and no window is left
    bad = tmp_path / "bad.db"
    bad.write_text("not a database at all")
    script = (
        "import sys\n"
        "sys.argv = ['flowdesk', '--db', sys.argv[1]]\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication, QMessageBox\n"
        "told = []\n"
        "def answer():\n"  # the person reads the dialog and presses OK
        "    for w in QApplication.topLevelWidgets():\n"
        "        if isinstance(w, QMessageBox) and w.isVisible():\n"
        "            told.append(w.text()); w.accept(); return\n"
        "    QTimer.singleShot(50, answer)\n"
        "from flowdesk.ui import splash\n"
        "show = splash.show_splash\n"
        "def show_then_watch(*a):\n"
        "    s = show(*a); QTimer.singleShot(50, answer); return s\n"
        "splash.show_splash = show_then_watch\n"
        "from flowdesk.__main__ import run\n"
        "code = run()\n"
        "print(told)\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from flowdesk.ui.splash import current_splash\n"
        "QApplication.processEvents()\n"
        "shown = [w.windowTitle() for w in QApplication.topLevelWidgets() if w.isVisible()]\n"
        "print(code, current_splash() is None, shown)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FLOWDESK_EXIT_AFTER_PAINT": "1",
           "FLOWDESK_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-c", script, str(bad)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert "flowdesk: splash painted at" in result.stderr  # it was there
    assert "is not a flowdesk database" in result.stderr
    told, end = result.stdout.split("\n")[:2]
    # whoever double-clicked the app has no terminal: the reason is shown in a dialog
    assert "flowdesk cannot start" in told and "is not a flowdesk database" in told, told
    assert end == "2 True []", result.stderr[-2000:]


class QImageOf:
    """Colour shares in a saved picture (regions in logical pixels)."""

    def __init__(self, path: Path) -> None:
        from PySide6.QtGui import QImage

        self.image = QImage(str(path))
        self.ratio = self.image.devicePixelRatio() or 1.0

    def width(self) -> int:
        return self.image.width()

    def height(self) -> int:
        return self.image.height()

    def share(self, x0: int, y0: int, x1: int, y1: int, color: str, tolerance: int) -> float:
        want = QColor(color)
        hits = total = 0
        for y in range(y0, min(y1, self.image.height()), 2):
            for x in range(x0, min(x1, self.image.width()), 2):
                c = self.image.pixelColor(x, y)
                total += 1
                hits += (abs(c.red() - want.red()) <= tolerance
                         and abs(c.green() - want.green()) <= tolerance
                         and abs(c.blue() - want.blue()) <= tolerance)
        return hits / total if total else 0.0
