"""The start-up splash: painted a few milliseconds after Qt starts, while the rest of flowdesk
is imported and the main window is built (most of the app's start-up), as Eclipse or Krita
do.

``show_splash`` (called by ``flowdesk.__main__`` for a command line that opens the app)
creates the QApplication and paints the splash at once; it imports only QtCore, QtGui and
QtWidgets of Qt, and of flowdesk only modules that import nothing heavy (tests/test_launch.py
checks that sqlalchemy and pydantic are not loaded by then). It is kept here, on its own,
until the app hands it the main window: ``finish_splash(window)`` closes it once that window
has painted (so there is no blank moment between the two); ``close_splash()`` closes it at
once, before a message is shown or when start-up ends early.

The splash is a Qt.SplashScreen window (``_NET_WM_WINDOW_TYPE_SPLASH`` on X11) titled
``SPLASH_TITLE`` — never "… — flowdesk", the main window's title — and it is shown without
taking the keyboard, so what is typed once the main window appears goes to the main window.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from flowdesk import __version__
from flowdesk.dburl import display_name
from flowdesk.resources import icons_dir

__all__ = ["SPLASH_TITLE", "Splash", "close_splash", "current_splash", "finish_splash",
           "identify_app", "show_splash"]

SPLASH_TITLE = "Starting flowdesk"
_SIZE = (420, 132)  # logical pixels
_LONGEST_WAIT_MS = 3000  # a main window that never paints (minimised) does not keep it up
_EXPOSE_WAIT_S = 0.5  # for the window system to map the splash (it paints then)

_splash: Splash | None = None


class Splash(QWidget):
    """A frameless Qt.SplashScreen window showing a picture, centred on the screen.
    (QSplashScreen is not used: its show() waits up to a second for the window to be exposed,
    and it is never exposed during show() on the offscreen platform the benchmarks use.)"""

    def __init__(self, picture: QPixmap) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.picture = picture
        self.setWindowTitle(SPLASH_TITLE)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        size = picture.size() / picture.devicePixelRatio()
        self.setFixedSize(size)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.center().x() - size.width() // 2,
                      area.center().y() - size.height() // 2)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.picture)
        painter.end()


def show_splash(database: str) -> Splash:
    """Create the QApplication (or take the running one) and paint the splash, saying which
    database is being opened. With ``FLOWDESK_EXIT_AFTER_PAINT`` set (the start-up
    benchmark) the moment it was painted is printed on stderr."""
    global _splash
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    identify_app(app)
    splash = Splash(_picture(app.windowIcon(),
                             f"Opening {display_name(database) or database}…"))
    splash.show()
    # Qt paints a window once the window system has mapped it: wait for that here, as
    # nothing runs Qt's events while the rest of flowdesk is imported
    handle = splash.windowHandle()
    deadline = time.monotonic() + _EXPOSE_WAIT_S
    while handle is not None and not handle.isExposed() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    splash.repaint()
    app.processEvents()
    _splash = splash
    if os.environ.get("FLOWDESK_EXIT_AFTER_PAINT"):
        print(f"flowdesk: splash painted at {time.time():.6f}", file=sys.stderr, flush=True)
    return splash


def identify_app(app: QApplication) -> None:
    """Name the application and give it its icon (once: the splash does it when it is shown,
    ``flowdesk.app.run_app`` when there was no splash)."""
    if app.applicationName() == "flowdesk" and not app.windowIcon().isNull():
        return
    app.setApplicationName("flowdesk")
    app.setDesktopFileName("flowdesk")
    app.setWindowIcon(QIcon(str(icons_dir() / "flowdesk.svg")))


def current_splash() -> Splash | None:
    return _splash


def close_splash() -> None:
    """Close the splash now (before a message box, or when start-up ends early)."""
    global _splash
    splash, _splash = _splash, None
    if splash is not None:
        splash.close()
        splash.deleteLater()


def finish_splash(window: QWidget) -> None:
    """Close the splash once ``window`` (just shown) has painted, or after a few seconds at
    the latest. (QSplashScreen.finish waits for the window by running Qt's event loop on the
    spot, before the app's asyncio loop runs: the loop's timers would fire outside it.)"""
    if _splash is None:
        return
    closer = _CloseOnPaint(window)
    window.installEventFilter(closer)
    QTimer.singleShot(_LONGEST_WAIT_MS, closer.close)


class _CloseOnPaint(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            # after this paint has reached the screen, not before it
            QTimer.singleShot(0, self.close)
        return False

    def close(self) -> None:
        self._window.removeEventFilter(self)
        close_splash()


def _picture(icon: QIcon, line: str) -> QPixmap:
    """The splash's picture: the app icon, the name "flowdesk", and ``line`` under it."""
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    width, height = _SIZE
    pixmap = QPixmap(int(width * ratio), int(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor("#ffffff"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("#cfd5dd"))
    painter.drawRect(0, 0, width - 1, height - 1)
    icon.paint(painter, QRect(28, (height - 76) // 2, 76, 76))
    name = QFont()
    name.setPixelSize(34)
    name.setBold(True)
    painter.setFont(name)
    painter.setPen(QColor("#1f2937"))
    painter.drawText(QRect(124, 26, width - 140, 44),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "flowdesk")
    small = QFont()
    small.setPixelSize(14)
    painter.setFont(small)
    painter.setPen(QColor("#6b7280"))
    elided = painter.fontMetrics().elidedText(line, Qt.TextElideMode.ElideMiddle, width - 140)
    painter.drawText(QRect(124, 74, width - 140, 22),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
    painter.drawText(QRect(124, height - 30, width - 140, 18),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     f"version {__version__}")
    painter.end()
    return pixmap
