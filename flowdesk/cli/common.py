"""What every command of the ``flowdesk`` command line shares: exit codes, the parser class,
reading JSON and workflows from arguments, building the runtime, carrying a run on in this
process and reporting how it ended.

Exit codes (DESIGN.md): 0 the run completed, 1 it failed or was cancelled, 3 it is paused
waiting for an approval or event, 2 bad input (invalid file, unknown step type, bad JSON,
unknown run) with a message that says what and where. Progress goes to stderr; ``--json``
prints the run on stdout. Only pydantic models are imported at the top: the store, the engine
and the runtime are imported inside the functions that need them, so ``flowdesk --help``
stays fast.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from flowdesk.model.errors import FlowdeskError
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow

if TYPE_CHECKING:
    from flowdesk.runtime import Runtime
    from flowdesk.store import Store

__all__ = [
    "DB_HELP",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PAUSED",
    "CliParser",
    "Command",
    "Commands",
    "UsageError",
    "add_carry_flags",
    "add_command",
    "carry_on",
    "emit_result",
    "exit_code",
    "load_file",
    "load_workflow",
    "open_runtime",
    "open_store",
    "parse_json",
    "started",
    "worst",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_PAUSED = 0, 1, 2, 3

DB_HELP = ("database file or SQLAlchemy URL (default: $FLOWDESK_DB or flowdesk.db in the data "
           "folder)")

Command = Callable[[argparse.Namespace], int]
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Commands = argparse._SubParsersAction


class UsageError(FlowdeskError):
    """Bad input on the command line (exit 2)."""


class CliParser(argparse.ArgumentParser):
    """A parser whose usage errors exit 2 (bad input), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"flowdesk: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def add_command(sub: Commands, common: argparse.ArgumentParser, name: str, func: Command,
                help: str, **kw: Any) -> argparse.ArgumentParser:
    """A sub-command ``name`` that runs ``func`` and takes the common options (``--db``)."""
    parser = sub.add_parser(name, help=help, description=help, parents=[common], **kw)
    parser.set_defaults(func=func)
    return parser


def add_carry_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of every command that carries a run on in this process."""
    parser.add_argument("--json", action="store_true", help="print the run as JSON on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def exit_code(run: RunSnapshot) -> int:
    if run.status is RunStatus.COMPLETED:
        return EXIT_OK
    if run.status is RunStatus.PAUSED:
        return EXIT_PAUSED
    return EXIT_FAILED


def worst(runs: list[RunSnapshot]) -> int:
    """The exit code of several runs: failed before paused before completed."""
    codes = {exit_code(r) for r in runs}
    for code in (EXIT_FAILED, EXIT_PAUSED):
        if code in codes:
            return code
    return EXIT_OK


def started() -> None:
    """A command that carries runs on is ready to: what start-up built (modules, the
    workflow, the runtime) is frozen out of the garbage collector's passes, which the
    command line turned off for start-up (flowdesk.cli.main), and collection goes on."""
    gc.freeze()
    gc.enable()


def open_store(args: argparse.Namespace) -> Store:
    from flowdesk.store import open_store as open_

    return open_(args.db)


def open_runtime(store: Store) -> Runtime:
    """The runtime on an open store (see flowdesk.runtime); plugins and entry points that
    could not be loaded are reported on stderr, and the command goes on without them."""
    from flowdesk.runtime import build_runtime

    runtime = build_runtime(store=store)
    for problem in runtime.load_errors:
        print(f"flowdesk: warning: {problem}", file=sys.stderr)
    return runtime


def parse_json(text: str | None, what: str) -> Any:
    """``text`` as JSON (``@FILE``: the file's text); ``what`` names it in the error."""
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc.strerror}") from None
    from flowdesk.model.jsontext import JsonTextError
    from flowdesk.model.jsontext import parse_json as parse

    try:
        return parse(text)
    except JsonTextError as exc:
        raise UsageError(f"{what} is {exc}") from None


def load_file(path: str | Path) -> Workflow:
    """A workflow file (flowdesk's, or an n8n export converted, its problems as warnings)."""
    from flowdesk.importers import load_workflow_file

    result = load_workflow_file(path)
    if result.source != "flowdesk":
        print(f"{path}: converted from {result.source} with {len(result.problems)} "
              "problem(s) to check", file=sys.stderr)
    for problem in result.problems:
        print(f"  warning: {problem}", file=sys.stderr)
    return result.workflow


def load_workflow(ref: str, store_factory: Callable[[], Store],
                  draft: bool = False) -> tuple[Workflow, int | None]:
    """A workflow from a file path, or else by name from the store (its published version,
    or with ``draft`` its draft, run as no version)."""
    path = Path(ref)
    if path.exists() or ref.endswith(".json"):
        return load_file(path), None
    if draft:
        return store_factory().get_draft(ref)[0], None
    return store_factory().get_workflow(ref)


def emit_result(run: RunSnapshot, args: argparse.Namespace) -> int:
    """Print how the run ended (``--json``: the run on stdout) and return its exit code."""
    from flowdesk.cli.format import fmt_duration

    if getattr(args, "json", False):
        print(json.dumps(run.to_cli_json(), indent=2, ensure_ascii=False, default=str))
    duration = run.active_seconds if run.active_seconds is not None else \
        (run.finished_at - run.started_at) if run.finished_at and run.started_at else None
    summary = f"run {run.id[:8]} {run.status.value}"
    if duration is not None:
        summary += f" in {fmt_duration(duration)}"
    if run.error:
        summary += f": {run.error}"
    if run.status is RunStatus.PAUSED:
        waiting = [s for s, st in run.steps.items() if st.status.value == "waiting"]
        summary += f" (waiting: {', '.join(waiting)})"
    print(summary, file=sys.stderr)
    return exit_code(run)


async def carry_on(runtime: Runtime, run_id: str, args: argparse.Namespace, *,
                   fresh: RunSnapshot | None = None, workflow: Workflow | None = None) -> int:
    """Execute the run in this process; if another live process executes it, follow it.
    The runtime is closed afterwards. ``fresh`` and ``workflow``: the run this process has
    just recorded (claimed by its engine) and its validated definition, which the engine
    then neither reads back nor parses again."""
    from flowdesk.cli.format import ProgressPrinter
    from flowdesk.engine import RunClaimed
    from flowdesk.engine.graph import WorkflowGraph

    engine = runtime.engine
    if not getattr(args, "quiet", False):
        engine.bus.subscribe(ProgressPrinter(run_id))
    after = runtime.store.last_seq(run_id)
    started()
    try:
        try:
            run = await engine.execute(
                run_id, fresh=fresh,
                graph=WorkflowGraph(workflow) if fresh is not None and workflow else None)
        except RunClaimed:
            print(f"flowdesk: run {run_id[:8]} is executed by another process; following it",
                  file=sys.stderr)
            run = await engine.follow(run_id, after_seq=after)
    finally:
        await runtime.aclose()
    return emit_result(run, args)
