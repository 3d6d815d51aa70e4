"""Colours, the light and dark themes, and icons."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from flowdesk.model.status import StepStatus
from flowdesk.resources import icons_dir

__all__ = ["CATEGORY_COLORS", "STATUS_COLORS", "Theme", "apply_theme", "category_color",
           "current_theme", "step_icon", "svg_renderer"]

CATEGORY_COLORS = {
    "Triggers": "#7c3aed", "Data": "#0284c7", "Logic": "#d97706", "Flow": "#059669",
    "Code": "#4f46e5", "Integrations": "#dc2626", "Human": "#db2777", "AI": "#9333ea",
    "Test": "#64748b",
}
STATUS_COLORS = {
    StepStatus.PENDING: "#94a3b8", StepStatus.RUNNING: "#2563eb",
    StepStatus.COMPLETED: "#16a34a", StepStatus.FAILED: "#dc2626",
    StepStatus.SKIPPED: "#a8a29e", StepStatus.WAITING: "#d97706",
    StepStatus.CANCELLED: "#6b7280",
}


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#475569"))


@dataclass(frozen=True)
class Theme:
    name: str
    canvas: str
    grid: str
    node: str
    node_border: str
    text: str
    subtext: str
    edge: str
    selection: str
    window: str
    base: str
    alt: str
    button: str
    dead_edge: str  # an edge a run did not take (a skipped branch)


LIGHT = Theme("light", canvas="#f5f6f8", grid="#e3e6eb", node="#ffffff", node_border="#cfd5dd",
              text="#1f2937", subtext="#6b7280", edge="#8b95a3", selection="#4f46e5",
              window="#eef0f3", base="#ffffff", alt="#f6f7f9", button="#ffffff",
              dead_edge="#a0a8b4")
DARK = Theme("dark", canvas="#1b1d22", grid="#262930", node="#2a2d35", node_border="#3b3f49",
             text="#e5e7eb", subtext="#9ca3af", edge="#6b7280", selection="#818cf8",
             window="#202228", base="#17191d", alt="#1f2126", button="#2a2d35",
             dead_edge="#5d6470")

_current = LIGHT


def current_theme() -> Theme:
    return _current


def apply_theme(app: QApplication, name: str = "light") -> Theme:
    global _current
    theme = DARK if name == "dark" else LIGHT
    _current = theme
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window, QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base, QPalette.ColorRole.AlternateBase: theme.alt,
        QPalette.ColorRole.Text: theme.text, QPalette.ColorRole.Button: theme.button,
        QPalette.ColorRole.ButtonText: theme.text, QPalette.ColorRole.Highlight: theme.selection,
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.subtext,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.subtext))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText,
                     QColor(theme.subtext))
    app.setPalette(palette)
    app.setStyleSheet(f"""
        QDockWidget::title {{ padding: 6px 8px; font-weight: 600; background: {theme.window}; }}
        QToolBar {{ spacing: 4px; padding: 4px; border: none; }}
        QToolButton {{ padding: 4px 8px; border-radius: 6px; }}
        QToolButton:hover {{ background: {theme.alt}; }}
        QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
            border: 1px solid {theme.node_border}; border-radius: 6px; padding: 4px 6px;
            background: {theme.base}; }}
        QLineEdit:focus, QPlainTextEdit:focus {{ border-color: {theme.selection}; }}
        QComboBox QAbstractItemView {{ background: {theme.base}; color: {theme.text};
            border: 1px solid {theme.node_border}; outline: 0;
            selection-background-color: {theme.selection}; selection-color: #ffffff; }}
        QComboBox::item:selected {{ background: {theme.selection}; color: #ffffff; border: none;
            padding: 0px; }}
        QTabBar::tab {{ padding: 6px 12px; }}
        QLabel[role="hint"] {{ color: {theme.subtext}; }}
        QLabel[role="error"] {{ color: #dc2626; }}
        QLabel[role="heading"] {{ font-weight: 600; font-size: 11pt; }}
        QPushButton {{ padding: 5px 12px; border-radius: 6px; border: 1px solid {theme.node_border};
            background: {theme.button}; }}
        QPushButton:hover {{ border-color: {theme.selection}; }}
        QPushButton[role="primary"] {{ background: {theme.selection}; color: white; border: none; }}
    """)
    return theme


@cache
def svg_renderer(name: str) -> QSvgRenderer:
    path = icons_dir() / f"{name}.svg"
    if not path.exists():
        path = icons_dir() / "test.svg"
    return QSvgRenderer(QByteArray(path.read_bytes()))


@cache
def step_icon(name: str, category: str, size: int = 32) -> QIcon:
    """The step's SVG drawn white on a disc of its category colour."""
    icon = QIcon()
    for scale in (1, 2):
        px = size * scale
        pixmap = QPixmap(px, px)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(category_color(category))
        painter.drawRoundedRect(QRectF(0, 0, px, px), px * 0.28, px * 0.28)
        svg_renderer(name).render(painter, QRectF(px * 0.2, px * 0.2, px * 0.6, px * 0.6))
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        icon.addPixmap(pixmap)
    return icon
