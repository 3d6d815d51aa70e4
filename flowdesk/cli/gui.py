"""``flowdesk gui [FILE]`` (also ``flowdesk`` alone and ``flowdesk FILE.json``): the desktop
app. Of the command line, Qt is imported only here, and only when the command runs (before it,
``flowdesk.__main__`` has shown the start-up splash, which the app closes); without the
``gui`` extra the command says how to install it (exit 2)."""

from __future__ import annotations

import argparse

from flowdesk.cli.common import Commands, UsageError, add_command

__all__ = ["cmd_gui", "register"]


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from flowdesk.app import run_app
    except ImportError as exc:
        raise UsageError(f"the desktop app is not available: {exc}. Install it with "
                         "pip install 'flowdesk[gui]', or use the commands in "
                         "`flowdesk --help`") from None
    return run_app(db=args.db, open_file=getattr(args, "file", None))


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "gui", cmd_gui,
                    "open the desktop app (the default with no command)")
    p.add_argument("file", nargs="?", help="a workflow file to open")
