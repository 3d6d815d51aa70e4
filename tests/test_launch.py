"""Which command lines open the desktop app (flowdesk.launch, decided before anything heavy is
imported), and the start-up splash they get: painted before sqlalchemy, pydantic or the rest
of flowdesk are imported, closed once the main window has painted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.dburl import display_name
from flowdesk.launch import app_by_default, database_named, opens_app


@pytest.fixture
def wf(tmp_path: Path) -> str:
    path = tmp_path / "w.json"
    path.write_text("{}")
    return str(path)


def test_no_command_means_the_app_also_after_global_options(wf: str) -> None:
    assert app_by_default([]) == ["gui"]
    assert app_by_default([wf]) == ["gui", wf]
    assert app_by_default(["--db", "postgresql://h/db"]) == ["--db", "postgresql://h/db", "gui"]
    assert app_by_default(["-v", "--db", "x.db", wf]) == ["-v", "--db", "x.db", "gui", wf]
    assert app_by_default(["--db", "x.db", "runs"]) == ["--db", "x.db", "runs"]
    assert app_by_default(["--db", "x.db", "--help"]) == ["--db", "x.db", "--help"]
    assert app_by_default(["nope.json"]) == ["nope.json"]  # not a file: argparse says so


@pytest.mark.parametrize("line", [
    [], ["WF"], ["--db", "team.db"], ["-v", "--db", "postgresql://h/db", "WF"], ["--db=x.db"],
    ["gui"], ["gui", "WF"], ["--db", "x.db", "gui", "--db", "y.db", "WF"], ["--verbose"],
    ["--db", "gui"],  # "gui" is the database's name there, and no command follows
])
def test_these_command_lines_open_the_app(line: list[str], wf: str) -> None:
    assert opens_app([wf if arg == "WF" else arg for arg in line])


@pytest.mark.parametrize("line", [
    ["-h"], ["--help"], ["--version"], ["--db", "x.db", "--help"], ["gui", "--help"],
    ["gui", "-h"], ["runs"], ["--db", "x.db", "run", "WF"], ["validate", "WF"],
    ["nope.json"], ["WF", "WF"], ["serve"], ["--sandbox-worker"],
])
def test_these_command_lines_do_not_open_the_app(line: list[str], wf: str) -> None:
    assert not opens_app([wf if arg == "WF" else arg for arg in line])


def test_the_splash_names_the_database_the_line_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWDESK_DB", raising=False)
    assert database_named([]) == "flowdesk.db"  # the data folder's
    assert database_named(["--db", "team.db"]) == "team.db"
    assert database_named(["--db=team.db", "gui"]) == "team.db"
    assert database_named(["--db", "a.db", "gui", "--db", "b.db"]) == "b.db"  # as argparse
    monkeypatch.setenv("FLOWDESK_DB", "/srv/flows/shared.db")
    assert database_named([]) == "/srv/flows/shared.db"
    assert database_named(["--db", "team.db"]) == "team.db"
    # shown by name, never with a password
    assert display_name("/srv/flows/shared.db") == "shared.db"
    assert display_name("sqlite:////srv/flows/shared.db") == "shared.db"
    assert display_name("postgresql+psycopg://ann:pw@db.example:5432/flows?sslmode=require") \
        == "db.example:5432/flows"


def test_the_light_path_imports_nothing_heavy() -> None:
    # what flowdesk.__main__ imports before the splash: nothing of Qt, pydantic or sqlalchemy
    code = ("import sys; import flowdesk.launch; "
            "print(sorted(m for m in sys.modules if m.startswith(('flowdesk', 'PySide6', "
            "'pydantic', 'sqlalchemy', 'platformdirs'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "['flowdesk', 'flowdesk.launch', 'flowdesk.paths']"


HEAVY = ("sqlalchemy", "pydantic", "alembic", "qasync", "httpx", "flowdesk.model",
         "flowdesk.store", "flowdesk.cli", "flowdesk.engine", "flowdesk.app")
QT_BEFORE_SPLASH = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"}


def test_flowdesk_paints_its_splash_before_importing_the_heavy_parts(tmp_path: Path) -> None:
    # the real program, as `python -m flowdesk`: -X importtime writes each import on stderr
    # as it completes, and the splash writes its line when it has painted, in order
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FLOWDESK_EXIT_AFTER_PAINT": "1",
           "FLOWDESK_HOME": str(tmp_path / "home"), "FLOWDESK_DB": str(tmp_path / "team.db")}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "flowdesk"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    splash = next(i for i, line in enumerate(lines) if "flowdesk: splash painted at" in line)
    main = next(i for i, line in enumerate(lines) if "flowdesk: first paint at" in line)
    assert splash < main
    before = [m.group(1) for line in lines[:splash]
              if (m := re.match(r"import time:\s+\d+ \|\s+\d+ \|\s+(\S+)", line))]
    assert "flowdesk.ui.splash" in before
    assert [m for m in before if m.startswith(HEAVY)] == []
    assert {m for m in before if m.startswith("PySide6.Qt")} <= QT_BEFORE_SPLASH
    after = [m.group(1) for line in lines[splash:]
             if (m := re.match(r"import time:\s+\d+ \|\s+\d+ \|\s+(\S+)", line))]
    assert {"sqlalchemy", "pydantic", "flowdesk.cli"} <= set(after)  # the check can see them


def test_a_command_gets_no_splash(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FLOWDESK_EXIT_AFTER_PAINT": "1",
           "FLOWDESK_HOME": str(tmp_path / "home"), "FLOWDESK_DB": str(tmp_path / "f.db")}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "flowdesk", "workflows"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "splash" not in result.stderr
    assert "PySide6" not in result.stderr  # nor Qt at all
