"""What a ``flowdesk`` command line asks for, decided before anything heavy is imported.

``flowdesk.__main__`` asks ``opens_app`` first: a command line that opens the desktop app
gets its start-up splash (``flowdesk.ui.splash``) before sqlalchemy, pydantic and the rest
of flowdesk are imported, which is most of the app's start-up. ``flowdesk.cli`` uses the same
functions to dispatch (``app_by_default``, ``command_of``), so the two never disagree.

This module imports the standard library and ``flowdesk.paths`` only; keep it so
(tests/test_launch.py checks it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from flowdesk.paths import DEFAULT_DB_NAME

__all__ = ["SANDBOX_WORKER", "app_by_default", "command_at", "command_of", "database_named",
           "opens_app"]

# the bundle's stand-in for `python -I worker.py` (flowdesk.cli.main): never the app
SANDBOX_WORKER = "--sandbox-worker"
_HELP = ("-h", "--help")


def command_at(argv: Sequence[str]) -> int | None:
    """Where the command word stands, past the global options (``--db`` takes a value);
    None when the line asks for help or the version instead."""
    at = 0
    while at < len(argv) and argv[at].startswith("-"):
        if argv[at] in (*_HELP, "--version"):
            return None
        at += 2 if argv[at] == "--db" else 1
    return at


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of a command line (None: help, version or none)."""
    at = command_at(argv)
    return argv[at] if at is not None and at < len(argv) else None


def app_by_default(argv: list[str]) -> list[str]:
    """No command means the desktop app, as a double-click does: `flowdesk`, `flowdesk
    FILE.json`, and the same after global options (`flowdesk --db URL [FILE.json]`)."""
    at = command_at(argv)
    if at is None:
        return argv
    rest = argv[at:]
    if not rest or (len(rest) == 1 and rest[0].endswith(".json") and Path(rest[0]).exists()):
        return [*argv[:at], "gui", *rest]
    return argv


def opens_app(argv: Sequence[str]) -> bool:
    """Whether this command line opens the desktop app: no command, one existing ``*.json``
    file, or ``gui`` (after global options, and not asking for help)."""
    if argv[:1] == [SANDBOX_WORKER]:
        return False
    line = app_by_default(list(argv))
    at = command_at(line)
    if at is None or command_of(line) != "gui":
        return False
    return not any(arg in _HELP for arg in line[at + 1:])


def database_named(argv: Sequence[str]) -> str:
    """The database a command line opens, as given: the last ``--db`` (before or after the
    command), else ``$FLOWDESK_DB``, else the data folder's file — by its name only, as
    finding the folder costs an import (the full rule: flowdesk.paths.default_db_path)."""
    given = ""
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            given = argv[i + 1]
        elif arg.startswith("--db="):
            given = arg.removeprefix("--db=")
    return given or os.environ.get("FLOWDESK_DB") or DEFAULT_DB_NAME
