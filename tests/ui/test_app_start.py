"""A real process that builds the window, copies steps and quits: the clipboard must not
crash the interpreter at exit. (Starting the app as a user does is in tests/e2e.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_copying_steps_then_quitting_exits_cleanly(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from flowdesk.app import build_app\n"
        "from flowdesk.resources import examples_dir\n"
        "w = build_app(sys.argv[1], housekeeping=False)\n"
        "w.open_file(str(examples_dir() / 'order-batch.json'))\n"
        "w.menus.act_select_all.trigger(); w.menus.act_copy.trigger()\n"
        "assert '\"flowdesk\": 1' in app.clipboard().text()\n"
        "w.close()\n"
    )
    env = {**os.environ, "FLOWDESK_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "f.db")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
