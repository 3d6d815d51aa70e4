"""File → Open database…: another database opens in a new window — a new `flowdesk --db URL`
process, checked first so a wrong URL is told at once and starts nothing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from flowdesk.store import open_store
from flowdesk.ui.open_database import database_command, open_database


def _opened_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:
            pass
    return found


def test_a_database_opens_in_a_new_flowdesk_window(window, tmp_path: Path) -> None:
    assert window.menus.act_open_db.text() == "Open data&base…"
    team = tmp_path / "team.db"
    pid, problem = open_database(f"  {team}  ")
    assert problem == "" and pid is not None
    try:
        assert open_store(team).list_workflows() == []  # checked (created, migrated) first
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[-3:-1] == [b"--db", str(team).encode()]
        deadline = time.monotonic() + 30
        while str(team) not in _opened_files(pid):  # the new window's app has it open
            assert time.monotonic() < deadline, "the new window never opened the database"
            time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGTERM)


def test_a_database_that_cannot_be_opened_is_told_and_starts_nothing(window) -> None:
    pid, problem = open_database("postgresql://nobody@127.0.0.1:1/none")
    assert pid is None and "127.0.0.1" in problem and "refused" in problem.lower()
    assert open_database("   ") == (None, "no database given")


def test_the_command_is_the_app_itself() -> None:
    assert database_command("x.db")[-2:] == ["--db", "x.db"]
