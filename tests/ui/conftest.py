"""Qt fixtures: a qasync loop that runs while qtbot processes events, and a real main window
on a SQLite file under tmp_path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync

from flowdesk.ui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def qloop(qapp) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop._QEventLoop__is_running = False
    loop.close()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def window(qtbot, qloop, tmp_path: Path) -> Iterator[MainWindow]:
    from flowdesk.app import build_app
    from flowdesk.ui import theme

    theme.apply_theme(qtbot_app(), "light")
    w = build_app(str(tmp_path / "flowdesk.db"), housekeeping=False)
    w.controller.engine.poll_interval = 0.05
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    done = qloop.create_task(w.controller.aclose())
    qtbot.waitUntil(done.done, timeout=10000)
    w.library.store.close()


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def save_artifact(widget, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    widget.grab().save(str(path))
    return path
