"""The ``flowdesk`` command line: the headless face of the same engine the app embeds.

``main`` is the ``flowdesk`` console script and ``python -m flowdesk``. With no command, or
with only a workflow file (``flowdesk FILE.json``), it opens the desktop app. The parser is
built from one module per command group, each adding its sub-commands with ``register``:
``gui``, ``runs`` (run, runs, show, cancel, resume, retry), ``teststep`` (test-step, pin,
pins), ``workflows`` (validate, import, export, workflows, steps), ``decisions`` (approve,
reject, send-event, approvals), ``admin``
(prune, install-desktop, secrets, config) and ``serve``. Exit codes and what they mean are
in ``flowdesk.cli.common``; the parts that run workflows come from ``flowdesk.runtime``.
Nothing of Qt, SQLAlchemy or the engine is imported until a command needs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from flowdesk import __version__
from flowdesk.cli import (
    admin,
    decisions,
    gui,
    runs,
    serve,
    teststep,
    tokens,
    versions,
    workflows,
)
from flowdesk.cli.common import (
    DB_HELP,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PAUSED,
    CliParser,
)
from flowdesk.model.errors import FlowdeskError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "EXIT_PAUSED", "build_parser", "main"]

COMMAND_GROUPS = (gui, runs, teststep, workflows, versions, decisions, admin, serve, tokens)


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="flowdesk", description="flowdesk: build and run workflows.")
    parser.add_argument("--db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    # after the command, --db is optional again; its absence must not overwrite a --db given
    # before the command (`flowdesk --db X runs`), so the sub-commands default to nothing
    common = CliParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=DB_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    for group in COMMAND_GROUPS:
        group.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--sandbox-worker"]:  # the bundle's stand-in for `python -I worker.py`
        from flowdesk.engine import _sandbox_worker

        _sandbox_worker.main()
        return EXIT_OK
    parser = build_parser()
    args = parser.parse_args(_app_by_default(argv))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args))
    except FlowdeskError as exc:
        print(f"flowdesk: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("flowdesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `flowdesk runs --json | head`: the reader has gone; stop quietly, as cat does
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _app_by_default(argv: list[str]) -> list[str]:
    """No command means the desktop app, as a double-click does: `flowdesk`, `flowdesk
    FILE.json`, and the same after global options (`flowdesk --db URL [FILE.json]`)."""
    at = 0
    while at < len(argv) and argv[at].startswith("-"):
        if argv[at] in ("-h", "--help", "--version"):
            return argv
        at += 2 if argv[at] == "--db" else 1
    rest = argv[at:]
    if not rest or (len(rest) == 1 and rest[0].endswith(".json") and Path(rest[0]).exists()):
        return [*argv[:at], "gui", *rest]
    return argv
