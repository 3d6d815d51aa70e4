"""The floor for the app's start-up figure: a minimal PySide6 window (a QMainWindow with a
label), shown, painted once, then closed — the least any PySide6 app pays to a first paint."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def main() -> int:
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("floor")
    window.setCentralWidget(QLabel("minimal"))
    window.resize(1280, 800)
    window.show()
    window.repaint()
    print(f"floor: first paint at {time.time():.6f}", file=sys.stderr, flush=True)
    QTimer.singleShot(0, app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
