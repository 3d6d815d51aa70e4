"""`flowdesk` with no command opens the desktop app (a real process, offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowdesk.resources import examples_dir


def start(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FLOWDESK_HOME": str(tmp_path),
           "FLOWDESK_EXIT_AFTER_PAINT": "1"}
    env.pop("FLOWDESK_DB", None)
    return subprocess.run([sys.executable, "-m", "flowdesk", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_flowdesk_without_a_command_opens_the_window(tmp_path: Path) -> None:
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first paint" in result.stderr and "flowdesk" in result.stderr
    assert (tmp_path / "flowdesk.db").exists()  # first start made the data folder and db


def test_flowdesk_file_opens_that_workflow(tmp_path: Path) -> None:
    result = start(tmp_path, str(examples_dir() / "order-batch.json"))
    assert result.returncode == 0, result.stderr
    assert "title='Order batch (version 1) — flowdesk'" in result.stderr


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
        "w.act_select_all.trigger(); w.act_copy.trigger()\n"
        "assert '\"flowdesk\": 1' in app.clipboard().text()\n"
        "w.close()\n"
    )
    env = {**os.environ, "FLOWDESK_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "f.db")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
