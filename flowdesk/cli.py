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
    from flowdesk.model.jsontext import JsonTextError, parse_json

    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise UsageError(f"{what} is {exc}") from None


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
    from flowdesk.secrets import SecretResolver, SecretStore
    from flowdesk.steps import default_registry

    services = Services(functions=default_functions(plugin_dir()))
    services.secrets = SecretResolver(SecretStore())
    for problem in services.functions.load_errors:
        print(f"flowdesk: warning: {problem}", file=sys.stderr)
    return Engine(store, default_registry(), services=services)


def _emit_result(run: RunSnapshot, args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_duration

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


async def _carry_on(engine: Engine, run_id: str, args: argparse.Namespace) -> int:
    """Execute the run in this process; if another live process executes it, follow it."""
    from flowdesk._clifmt import ProgressPrinter
    from flowdesk.engine import RunClaimed

    if not getattr(args, "quiet", False):
        engine.bus.subscribe(ProgressPrinter(run_id))
    after = engine.store.last_seq(run_id)
    try:
        try:
            run = await engine.execute(run_id)
        except RunClaimed:
            print(f"flowdesk: run {run_id[:8]} is executed by another process; following it",
                  file=sys.stderr)
            run = await engine.follow(run_id, after_seq=after)
    finally:
        await engine.aclose()
    return _emit_result(run, args)


def _worst(runs: list[RunSnapshot]) -> int:
    codes = {exit_code(r) for r in runs}
    for code in (EXIT_FAILED, EXIT_PAUSED):
        if code in codes:
            return code
    return EXIT_OK


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
             fmt_duration(r.active_seconds if r.active_seconds is not None else
                          r.finished_at - r.started_at if r.finished_at and r.started_at
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
    if getattr(args, "json", False):
        print(json.dumps([w.model_dump(mode="json") for w in items], indent=2))
        return EXIT_OK
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
    engine = _make_engine(store)

    async def go() -> RunSnapshot:
        try:
            return await engine.cancel(run_id, args.reason or "cancelled from the command line")
        finally:
            await engine.aclose()

    return _emit_result(asyncio.run(go()), args)


def cmd_resume(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import ProgressPrinter

    store = _open_store(args)
    engine = _make_engine(store)
    if args.run_id:
        return asyncio.run(_carry_on(engine, store.resolve_run_id(args.run_id), args))
    if not args.quiet:
        engine.bus.subscribe(ProgressPrinter())

    async def go() -> list[RunSnapshot]:
        try:
            return await engine.resume_all()
        finally:
            await engine.aclose()

    runs = asyncio.run(go())
    if not runs:
        print("nothing to resume", file=sys.stderr)
        return EXIT_OK
    for run in runs:
        _emit_result(run, argparse.Namespace(json=False))
    if args.json:
        print(json.dumps([r.to_cli_json() for r in runs], indent=2, default=str))
    return _worst(runs)


def cmd_retry(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import ProgressPrinter

    store = _open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    engine = _make_engine(store)
    if not args.quiet:
        engine.bus.subscribe(ProgressPrinter(run_id))

    async def go() -> RunSnapshot:
        try:
            return await engine.retry(run_id, from_step=args.from_step,
                                      definition="original" if args.original else "current")
        finally:
            await engine.aclose()

    return _emit_result(asyncio.run(go()), args)


def _decide(args: argparse.Namespace, approved: bool) -> int:
    store = _open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    data = _parse_json(args.data, "--data")
    engine = _make_engine(store)
    engine.decide(run_id, args.step_id, approved=approved, comment=args.comment or "",
                  data=data)
    print(f"{'approved' if approved else 'rejected'} step '{args.step_id}' of run "
          f"{run_id[:8]}", file=sys.stderr)
    return asyncio.run(_carry_on(engine, run_id, args))


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, True)


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, False)


def cmd_send_event(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import ProgressPrinter

    store = _open_store(args)
    data = _parse_json(args.data, "--data")
    engine = _make_engine(store)
    run_ids = engine.send_event(args.name, args.key, data)
    if not run_ids:
        keep = float(store.get_setting("events.keep_seconds", 7 * 24 * 3600))
        print(f"no run is waiting for '{args.name}'"
              f"{f' with key {args.key!r}' if args.key else ''}; the event is kept for "
              f"{keep / 3600:g} h for the first step that waits for it", file=sys.stderr)
        asyncio.run(engine.aclose())
        return EXIT_OK
    if len(run_ids) == 1:
        return asyncio.run(_carry_on(engine, run_ids[0], args))
    if not args.quiet:
        engine.bus.subscribe(ProgressPrinter())

    async def go() -> list[RunSnapshot]:
        try:
            out = []
            for run_id in run_ids:
                from flowdesk.engine import RunClaimed

                try:
                    out.append(await engine.execute(run_id))
                except RunClaimed:
                    out.append(await engine.follow(run_id))
            return out
        finally:
            await engine.aclose()

    runs = asyncio.run(go())
    for run in runs:
        _emit_result(run, argparse.Namespace(json=False))
    return _worst(runs)


def cmd_approvals(args: argparse.Namespace) -> int:
    from flowdesk._clifmt import fmt_time, print_table

    store = _open_store(args)
    waiting = store.waiting_steps(kind=None if args.all else "approval")
    if args.json:
        print(json.dumps([{k: v for k, v in w.items() if k != "state"} for w in waiting],
                         indent=2, default=str))
        return EXIT_OK
    if not waiting:
        print("nothing is waiting", file=sys.stderr)
        return EXIT_OK
    rows = []
    for w in waiting:
        what = w.get("title") or (f"event {w.get('event_name')}"
                                  + (f" [{w['correlation_key']}]" if w.get("correlation_key")
                                     else ""))
        rows.append([w["run_id"][:8], w["workflow"], w["step_id"], str(what)[:50],
                     fmt_time(w.get("since")),
                     fmt_time(w.get("timeout_at")) if w.get("timeout_at") else "-"])
    print_table(rows, ["RUN", "WORKFLOW", "STEP", "WAITING FOR", "SINCE", "TIMES OUT"])
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    import time as _time

    store = _open_store(args)
    days = args.keep_days if args.keep_days is not None else float(
        store.get_setting("runs.keep_days", 30))
    removed = store.prune_runs(_time.time() - days * 86400)
    print(f"removed {removed} run(s) that ended more than {days:g} day(s) ago",
          file=sys.stderr)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    store = _open_store(args)
    if args.key is None:
        values = {"runs.keep_days": 30, "events.keep_seconds": 7 * 24 * 3600,
                  **store.all_settings()}
        for key, value in sorted(values.items()):
            print(f"{key} = {json.dumps(value)}")
        return EXIT_OK
    if args.value is None:
        print(json.dumps(store.get_setting(args.key)))
        return EXIT_OK
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value
    store.set_setting(args.key, value)
    print(f"{args.key} = {json.dumps(value)}", file=sys.stderr)
    return EXIT_OK


def cmd_secrets(args: argparse.Namespace) -> int:
    import getpass

    from flowdesk.secrets import SecretsError, SecretStore

    store = SecretStore()
    try:
        if args.action == "list":
            names = store.names()
            for name in names:
                print(name)
            if not names:
                print("no secrets; add one with `flowdesk secrets set NAME`", file=sys.stderr)
            where = store.backend if store.backend == "keyring" else f"file {store.path}"
            print(f"(stored in the {where})", file=sys.stderr)
            return EXIT_OK
        if not args.name:
            raise UsageError(f"`flowdesk secrets {args.action}` needs a NAME")
        if args.action == "delete":
            store.delete(args.name)
            print(f"deleted secret '{args.name}'", file=sys.stderr)
            return EXIT_OK
        # set: the value comes from stdin (never from the command line, where it would be
        # visible in the process list and the shell history)
        if sys.stdin.isatty():
            value_text = getpass.getpass(f"value for {args.name}: ")
        else:
            value_text = sys.stdin.read().rstrip("\n")
        if not value_text:
            raise UsageError("the secret value is empty")
        value = _parse_json(value_text, "the secret value") if args.json else value_text
        store.set(args.name, value)
        print(f"stored secret '{args.name}' in the {store.backend}", file=sys.stderr)
        return EXIT_OK
    except SecretsError as exc:
        raise UsageError(str(exc)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    from flowdesk.service import TriggerService

    store = _open_store(args)
    engine = _make_engine(store)

    async def go() -> None:
        service = TriggerService(engine, args.host, args.port)
        await service.start()
        print(f"flowdesk serve: listening on http://{service.host}:{service.port} "
              "(webhooks at /hooks/<path>); schedules on; Ctrl+C or SIGTERM to stop",
              file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("flowdesk serve: stopping; running runs will resume on the next start",
              file=sys.stderr, flush=True)
        await service.stop()
        await engine.aclose()

    try:
        asyncio.run(go())
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return EXIT_OK


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from flowdesk.desktop import install_desktop_entry

    paths = install_desktop_entry()
    for path in paths:
        print(path)
    print("flowdesk is now in your applications menu", file=sys.stderr)
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
    # after the command, --db is optional again; its absence must not overwrite a --db given
    # before the command (`flowdesk --db X runs`), so the sub-commands default to nothing
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="database file or SQLAlchemy URL (default: $FLOWDESK_DB or "
                             "flowdesk.db in the data folder)")
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

    add("workflows", cmd_workflows, "list stored workflows").add_argument(
        "--json", action="store_true", help="print them as a JSON list")
    add("steps", cmd_steps, "list the step types")

    def carry_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print the run as JSON on stdout")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    p = add("cancel", cmd_cancel, "cancel a running or paused run")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--reason")
    carry_flags(p)

    p = add("resume", cmd_resume, "carry on interrupted runs (all of them with no RUN_ID)")
    p.add_argument("run_id", metavar="RUN_ID", nargs="?")
    carry_flags(p)

    p = add("retry", cmd_retry, "run a failed run's failed and never-run steps again")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--from", dest="from_step", metavar="STEP",
                   help="re-run this step and everything downstream of it instead")
    p.add_argument("--original", action="store_true",
                   help="run the definition the run last ran, not the workflow as it is "
                        "saved now (the default)")
    carry_flags(p)

    for name, func, verb in (("approve", cmd_approve, "approve"),
                             ("reject", cmd_reject, "reject")):
        p = add(name, func, f"{verb} a waiting approval step and carry the run on")
        p.add_argument("run_id", metavar="RUN_ID")
        p.add_argument("step_id", metavar="STEP_ID")
        p.add_argument("--comment", metavar="TEXT")
        p.add_argument("--data", metavar="JSON", help="JSON data for the step's output")
        carry_flags(p)

    p = add("send-event", cmd_send_event, "send an event to the steps waiting for it")
    p.add_argument("name")
    p.add_argument("--key", help="the correlation key")
    p.add_argument("--data", metavar="JSON")
    carry_flags(p)

    p = add("approvals", cmd_approvals, "list the approvals waiting for a decision")
    p.add_argument("--all", action="store_true", help="also list steps waiting for events")
    p.add_argument("--json", action="store_true")

    p = add("prune", cmd_prune, "delete old finished runs and compact the database")
    p.add_argument("--keep-days", type=float, help="default: the runs.keep_days setting (30)")

    add("install-desktop", cmd_install_desktop,
        "add flowdesk to the applications menu (a .desktop entry and icons)")

    p = add("serve", cmd_serve, "headless: webhook listener, schedules, resumes runs")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    p.add_argument("--port", type=int, default=8686)

    p = add("secrets", cmd_secrets, "store credentials apart from workflows (value on stdin)")
    p.add_argument("action", choices=["set", "list", "delete"])
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true",
                   help="the value is a JSON object (a credential: host, username...)")

    p = add("config", cmd_config, "show or change settings kept in the database")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--sandbox-worker"]:  # the bundle's stand-in for `python -I worker.py`
        from flowdesk.engine import _sandbox_worker

        _sandbox_worker.main()
        return EXIT_OK
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
