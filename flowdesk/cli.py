"""The ``flowdesk`` command line: the headless face of the same engine the app embeds.

Exit codes (DESIGN.md): 0 the run completed, 1 it failed or was cancelled, 3 it is paused
waiting for an approval or event, 2 bad input (invalid file, unknown step type, bad JSON,
unknown run) with a message that says what and where. Progress goes to stderr; ``--json``
prints the run on stdout. Nothing of Qt is imported unless the desktop app is asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from flowdesk import __version__
from flowdesk.model.errors import FlowdeskError, WorkflowInvalid
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow

if TYPE_CHECKING:
    from flowdesk.engine import Engine
    from flowdesk.store import Store

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "EXIT_PAUSED", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_PAUSED = 0, 1, 2, 3


class UsageError(FlowdeskError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"flowdesk: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def exit_code(run: RunSnapshot) -> int:
    if run.status is RunStatus.COMPLETED:
        return EXIT_OK
    if run.status is RunStatus.PAUSED:
        return EXIT_PAUSED
    return EXIT_FAILED


# -- helpers ---------------------------------------------------------------------------------
def _open_store(args: argparse.Namespace) -> Store:
    from flowdesk.store import open_store

    return open_store(args.db)


def _parse_json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno}") from None


def _load_workflow(ref: str, store_factory: Callable[[], Store]) -> tuple[Workflow, int | None]:
    """A workflow from a file path, or else by name from the store."""
    path = Path(ref)
    if path.exists() or ref.endswith(".json"):
        return Workflow.load(path), None
    return store_factory().get_workflow(ref)


def _make_engine(store: Store) -> Engine:
    from flowdesk.engine import Engine, Services
    from flowdesk.engine.functions import default_functions
    from flowdesk.paths import plugin_dir

    services = Services(functions=default_functions(plugin_dir()))
    for problem in services.functions.load_errors:
        print(f"flowdesk: warning: {problem}", file=sys.stderr)
    return Engine(store, services=services)


def _emit_result(run: RunSnapshot, args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_duration

    if getattr(args, "json", False):
        print(json.dumps(run.to_cli_json(), indent=2, ensure_ascii=False, default=str))
    duration = (run.finished_at - run.started_at) if run.finished_at and run.started_at else None
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


async def _carry_on(engine: Engine, run_id: str, args: argparse.Namespace) -> int:
    from flowdesk._clifmt import ProgressPrinter

    if not getattr(args, "quiet", False):
        engine.bus.subscribe(ProgressPrinter(run_id))
    try:
        run = await engine.execute(run_id)
    finally:
        await engine.aclose()
    return _emit_result(run, args)


# -- commands --------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    store = _open_store(args)
    workflow, version = _load_workflow(args.workflow, lambda: store)
    run_input = _parse_json(args.input, "--input")
    if args.sample_input:
        if run_input is not None:
            raise UsageError("give either --input or --sample-input, not both")
        run_input = (workflow.model_extra or {}).get("sample_input")
        if run_input is None:
            raise UsageError(f"workflow '{workflow.name}' has no sample_input")
    engine = _make_engine(store)
    run, created = engine.start(workflow, run_input, workflow_version=version,
                                idempotency_key=args.idempotency_key)
    if not created:
        print(f"flowdesk: idempotency key already used by run {run.id[:8]} "
              f"({run.status.value}); returning that run", file=sys.stderr)
        if run.status is not RunStatus.PENDING:
            return _emit_result(run, args)
    return asyncio.run(_carry_on(engine, run.id, args))


def cmd_validate(args: argparse.Namespace) -> int:
    from flowdesk.engine.validation import validate
    from flowdesk.steps import default_registry

    workflow = Workflow.load(args.file)
    problems = validate(workflow, default_registry())
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{args.file}: valid ({len(workflow.nodes)} steps, {len(workflow.edges)} edges)")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_duration, fmt_time, print_table

    store = _open_store(args)
    statuses = [RunStatus(s) for s in args.status] if args.status else None
    runs = store.list_runs(workflow=args.workflow, status=statuses, limit=args.limit)
    if args.json:
        print(json.dumps([{"id": r.id, "workflow": r.workflow_name, "status": r.status.value,
                           "created_at": r.created_at, "started_at": r.started_at,
                           "finished_at": r.finished_at, "error": r.error} for r in runs],
                         indent=2))
        return EXIT_OK
    rows = [[r.id[:8], r.workflow_name, r.status.value, fmt_time(r.started_at or r.created_at),
             fmt_duration(r.finished_at - r.started_at if r.finished_at and r.started_at
                          else None), (r.error or "")[:60]] for r in runs]
    if not rows:
        print("no runs", file=sys.stderr)
        return EXIT_OK
    print_table(rows, ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "ERROR"])
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_time, print_run

    store = _open_store(args)
    run = store.get_run(store.resolve_run_id(args.run_id))
    if args.json:
        data = run.to_cli_json()
        if args.events:
            data["events"] = [e.model_dump(mode="json") for e in store.get_events(run.id)]
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    print_run(run)
    if args.events:
        print()
        for event in store.get_events(run.id):
            step = f" {event.step_id}" if event.step_id else ""
            payload = json.dumps(event.payload, ensure_ascii=False, default=str)
            if len(payload) > 100:
                payload = payload[:99] + "…"
            print(f"{event.seq:5d} {fmt_time(event.ts)} {event.type.value}{step} {payload}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from flowdesk.engine.validation import validate
    from flowdesk.steps import default_registry

    workflow = Workflow.load(args.file)
    if args.name:
        workflow = workflow.model_copy(update={"name": args.name})
    problems = validate(workflow, default_registry())
    if problems and not args.force:
        raise WorkflowInvalid(problems, f"{args.file}")
    store = _open_store(args)
    existed = store.has_workflow(workflow.name)
    version = store.save_workflow(workflow, new_version=True)
    verb = "updated" if existed else "imported"
    print(f"{verb} '{workflow.name}' (version {version})")
    for problem in problems:
        print(f"  warning: {problem}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    store = _open_store(args)
    workflow, _ = store.get_workflow(args.name)
    text = workflow.to_json() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"exported '{workflow.name}' to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_workflows(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_time, print_table

    store = _open_store(args)
    items = store.list_workflows()
    if not items:
        print("no workflows; add one with `flowdesk import FILE`", file=sys.stderr)
        return EXIT_OK
    print_table([[w.name, str(w.version), fmt_time(w.updated_at), w.description[:60]]
                 for w in items], ["NAME", "VERSION", "UPDATED", "DESCRIPTION"])
    return EXIT_OK


def cmd_steps(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import print_table
    from flowdesk.steps import default_registry

    catalog = default_registry().catalog()
    print_table([[c.type, c.category, c.label, c.description] for c in catalog],
                ["TYPE", "CATEGORY", "LABEL", "DESCRIPTION"])
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    store = _open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    run = store.get_run(run_id)
    if run.status.is_terminal:
        raise UsageError(f"run {run_id[:8]} is already {run.status.value}")
    store.request_cancel(run_id, args.reason or "cancelled from the command line")
    print(f"cancellation of run {run_id[:8]} requested", file=sys.stderr)
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from flowdesk.app import run_app
    except ImportError as exc:
        raise UsageError(f"the desktop app is not available: {exc}. Install it with "
                         "pip install 'flowdesk[gui]', or use the commands in "
                         "`flowdesk --help`") from None
    return run_app(db=args.db, open_file=getattr(args, "file", None))


# -- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH",
                        help="database file or SQLAlchemy URL (default: $FLOWDESK_DB or "
                             "flowdesk.db in the data folder)")
    parser = _Parser(prog="flowdesk", description="flowdesk: build and run workflows.",
                     parents=[common])
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str,
            **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common], **kw)
        p.set_defaults(func=func)
        return p

    p = add("gui", cmd_gui, "open the desktop app (the default with no command)")
    p.add_argument("file", nargs="?", help="a workflow file to open")

    p = add("run", cmd_run, "run a workflow file or a stored workflow by name")
    p.add_argument("workflow", metavar="FILE|NAME")
    p.add_argument("--input", metavar="JSON", help="run input as JSON, or @file.json")
    p.add_argument("--sample-input", action="store_true",
                   help="use the workflow's sample_input as the run input")
    p.add_argument("--idempotency-key", metavar="KEY",
                   help="return the existing run if this key was used before")
    p.add_argument("--json", action="store_true", help="print the run as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    p = add("validate", cmd_validate, "check a workflow file and list every problem")
    p.add_argument("file")

    p = add("runs", cmd_runs, "list runs, newest first")
    p.add_argument("--workflow", metavar="NAME")
    p.add_argument("--status", action="append", choices=[s.value for s in RunStatus])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")

    p = add("show", cmd_show, "show a run's steps (and events)")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--events", action="store_true", help="also list the run's events")

    p = add("import", cmd_import, "store a workflow file in the database")
    p.add_argument("file")
    p.add_argument("--name", help="store under this name instead of the file's")
    p.add_argument("--force", action="store_true", help="import even if it has problems")

    p = add("export", cmd_export, "write a stored workflow as JSON")
    p.add_argument("name")
    p.add_argument("-o", "--output", metavar="FILE")

    add("workflows", cmd_workflows, "list stored workflows")
    add("steps", cmd_steps, "list the step types")

    p = add("cancel", cmd_cancel, "cancel a running or paused run")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--reason")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (len(argv) == 1 and argv[0].endswith(".json") and Path(argv[0]).exists()):
        argv = ["gui", *argv]
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


if __name__ == "__main__":
    sys.exit(main())
