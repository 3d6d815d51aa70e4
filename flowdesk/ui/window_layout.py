"""The window's frame: docks, the run panel's tabs, and the size and layout kept between
starts (``settings.ini`` in the data folder).

On a first start the window fits the screen with the run panel a quarter high; later it
comes back as it was closed. A tall run tab grows the panel when there is room, else it
scrolls, and a field that gets the keyboard in a scrolling tab is scrolled into view.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QByteArray, QRect, QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from flowdesk.paths import data_dir

__all__ = ["RunTabs", "add_dock", "app_settings", "restore_layout", "save_layout",
           "scrolling"]


def app_settings() -> QSettings:
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def scrolling(widget: QWidget) -> QScrollArea:
    """A tab page that scrolls instead of forcing its height on the run panel (so the
    window stays usable at 1280×720)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class RunTabs(QTabWidget):
    """The run panel's tabs; a page wrapped by ``scrolling`` is still found by its own
    widget (``setCurrentWidget(step_details)``)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__()
        self._window = window
        self.currentChanged.connect(self._fit)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._keep_focus_visible)

    def _page(self, widget: QWidget) -> QWidget:
        for i in range(self.count()):
            page = self.widget(i)
            if isinstance(page, QScrollArea) and page.widget() is widget:
                return page
        return widget

    def setCurrentWidget(self, widget: QWidget) -> None:
        super().setCurrentWidget(self._page(widget))

    def indexOf(self, widget: QWidget) -> int:
        return super().indexOf(self._page(widget))

    def _fit(self, index: int) -> None:
        """A tall tab (Approvals, Step) grows the run panel to show it whole when the window
        has room (the canvas keeps at least half the height); else the tab scrolls."""
        page = self.widget(index)
        dock = self._window.findChild(QDockWidget, "dock_Run")
        central = self._window.centralWidget()
        if not isinstance(page, QScrollArea) or dock is None or central is None or \
                dock.isFloating() or not dock.isVisible():
            return
        inner = page.widget()
        if inner is None:
            return
        chrome = dock.height() - page.height()  # dock title and tab bar
        wanted = min(inner.minimumSizeHint().height() + chrome,
                     int(central.height() + dock.height()) // 2)
        if dock.height() < wanted:
            self._window.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def _keep_focus_visible(self, _old: QWidget | None, new: QWidget | None) -> None:
        """A field that gets the keyboard in a scrolling run tab is scrolled into view."""
        if new is None or not shiboken6.isValid(self):
            return
        for i in range(self.count()):
            page = self.widget(i)
            inner = page.widget() if isinstance(page, QScrollArea) else None
            if isinstance(page, QScrollArea) and inner is not None and inner.isAncestorOf(new):
                page.ensureWidgetVisible(new, 20, 60)  # and the buttons under it
                return


def add_dock(window: QMainWindow, widget: QWidget, title: str, area: Qt.DockWidgetArea,
             size: int) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{title}")
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    orientation = Qt.Orientation.Vertical if area == Qt.DockWidgetArea.BottomDockWidgetArea \
        else Qt.Orientation.Horizontal
    window.resizeDocks([dock], [size], orientation)
    return dock


def restore_layout(window: QMainWindow, settings: QSettings) -> None:
    """The size, place and dock layout the window had when it was last closed; on a first
    start, a size that fits the screen with the run panel a quarter high."""
    geometry = settings.value("window/geometry")
    state = settings.value("window/state")
    if isinstance(geometry, QByteArray) and window.restoreGeometry(geometry):
        if isinstance(state, QByteArray):
            window.restoreState(state)
        return
    screen = window.screen() or QApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1440, 900)
    # leave room for the window manager's frame and title bar
    width, height = min(1440, area.width() - 24), min(900, area.height() - 48)
    window.resize(width, height)
    window.move(area.left() + (area.width() - width) // 2,
                area.top() + max(0, (area.height() - height) // 2))
    dock = window.findChild(QDockWidget, "dock_Run")
    if dock is not None:
        window.resizeDocks([dock], [max(150, min(260, height // 4))], Qt.Orientation.Vertical)


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
