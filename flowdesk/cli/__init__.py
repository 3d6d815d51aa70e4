"""The ``flowdesk`` command line: the headless face of the same engine the app embeds.

``main`` is the ``flowdesk`` console script and ``python -m flowdesk``. With no command, or
with only a workflow file (``flowdesk FILE.json``), it opens the desktop app (which command a
line names is decided in ``flowdesk.launch``, shared with ``flowdesk.__main__``). The parser is
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
import gc
import importlib
import logging
import sys
from collections.abc import Sequence

from flowdesk import __version__
from flowdesk.cli.common import (
    DB_HELP,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PAUSED,
    CliParser,
)
from flowdesk.launch import SANDBOX_WORKER, app_by_default, command_of

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "EXIT_PAUSED",
           "build_parser", "main"]

# the command group (a module of flowdesk.cli) that registers each command: a command line
# naming one imports only its group (tests/test_cli.py checks this against the parser)
COMMAND_GROUPS = ("gui", "runs", "teststep", "workflows", "versions", "decisions", "admin",
                  "serve", "tokens")
COMMANDS = {
    "gui": "gui",
    **dict.fromkeys(("run", "runs", "show", "cancel", "resume", "retry"), "runs"),
    **dict.fromkeys(("test-step", "pin", "pins"), "teststep"),
    **dict.fromkeys(("validate", "import", "export", "workflows", "steps"), "workflows"),
    **dict.fromkeys(("versions", "diff", "restore"), "versions"),
    **dict.fromkeys(("approve", "reject", "send-event", "approvals"), "decisions"),
    **dict.fromkeys(("prune", "install-desktop", "secrets", "config"), "admin"),
    "serve": "serve",
    "tokens": "tokens",
}
# commands whose start-up runs without the cyclic garbage collector: start-up allocates what
# lives on (modules, classes, the parsed workflow), so collections then only cost time (a
# fifth of a `flowdesk run`); those that execute runs turn it back on once started, with
# what start-up built frozen out of later collections (flowdesk.cli.common.started)
_QUICK_START = frozenset({"run", "resume", "retry", "validate", "show", "runs", "steps",
                          "workflows", "export", "import"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``command`` only the sub-commands of its group (what
    parsing a command line that names it needs)."""
    parser = CliParser(prog="flowdesk", description="flowdesk: build and run workflows.")
    parser.add_argument("--db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    # after the command, --db is optional again; its absence must not overwrite a --db given
    # before the command (`flowdesk --db X runs`), so the sub-commands default to nothing
    common = CliParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=DB_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    groups = (COMMANDS[command],) if command in COMMANDS else COMMAND_GROUPS
    for group in groups:
        importlib.import_module(f"flowdesk.cli.{group}").register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [SANDBOX_WORKER]:  # the bundle's stand-in for `python -I worker.py`
        from flowdesk.engine import _sandbox_worker

        gc.enable()  # the workers' code steps get the collector, as under `python -I`
        _sandbox_worker.main()
        return EXIT_OK
    argv = app_by_default(argv)  # which command: flowdesk.launch, as flowdesk.__main__ asks
    command = command_of(argv)
    # the collector is off while a quick command starts, on for any other (flowdesk.__main__
    # turns it off before the first import); it is on again when main returns
    quick = command in _QUICK_START
    if quick:
        gc.disable()
    else:
        gc.enable()
    try:
        return _dispatch(build_parser(command), argv)
    finally:
        if quick:
            gc.unfreeze()
            gc.enable()


def _dispatch(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from flowdesk.model.errors import FlowdeskError

    args = parser.parse_args(argv)
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
