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
