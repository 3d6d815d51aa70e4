"""Commands about runs: ``run``, ``runs``, ``show``, ``cancel``, ``resume``, ``retry``.

``run``, ``resume`` and ``retry`` carry the run(s) on in this process until they complete,
fail or pause again, and exit as the run ended (see flowdesk.cli.common).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from flowdesk.cli.common import (
    EXIT_OK,
    Commands,
    UsageError,
    add_carry_flags,
    add_command,
    carry_on,
    emit_result,
    load_workflow,
    open_runtime,
    open_store,
    parse_json,
    started,
    worst,
)
from flowdesk.model.errors import StoreError
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus

__all__ = ["cmd_cancel", "cmd_resume", "cmd_retry", "cmd_run", "cmd_runs", "cmd_show",
           "register"]


def cmd_run(args: argparse.Namespace) -> int:
    from flowdesk.model.pins import split_pins

    store = open_store(args)
    workflow, version = load_workflow(args.workflow, lambda: store, args.draft)
    workflow, _ = split_pins(workflow)  # pins never apply to a run
    if args.to is not None:
        from flowdesk.engine.teststep import workflow_up_to

        workflow = workflow_up_to(workflow, args.to)
    run_input = parse_json(args.input, "--input")
    if args.sample_input:
        if run_input is not None:
            raise UsageError("give either --input or --sample-input, not both")
        run_input = (workflow.model_extra or {}).get("sample_input")
        if run_input is None:
            raise UsageError(f"workflow '{workflow.name}' has no sample_input")
    runtime = open_runtime(store)
    run, created = runtime.engine.start(workflow, run_input, workflow_version=version,
                                        idempotency_key=args.idempotency_key)
    if not created:
        print(f"flowdesk: idempotency key already used by run {run.id[:8]} of "
              f"{workflow.name!r} "
              f"({run.status.value}); returning that run", file=sys.stderr)
        if run.status is not RunStatus.PENDING:
            return emit_result(run, args)
    try:
        return asyncio.run(carry_on(runtime, run.id, args, fresh=run if created else None,
                                    workflow=workflow))
    except StoreError as exc:  # the database went away mid-run: say what became of the run
        raise StoreError(f"{exc}\nrun {run.id[:8]} is kept as far as its last recorded step; "
                         "once the database is back, `flowdesk resume` carries it on") from None


def cmd_runs(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_duration, fmt_time, print_table

    store = open_store(args)
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
    from flowdesk.cli.format import fmt_time, print_run

    store = open_store(args)
    run = store.get_run(store.resolve_run_id(args.run_id))
    if args.json:
        data = run.to_document()
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


def cmd_cancel(args: argparse.Namespace) -> int:
    store = open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    runtime = open_runtime(store)

    async def go() -> RunSnapshot:
        try:
            return await runtime.engine.cancel(run_id,
                                               args.reason or "cancelled from the command line")
        finally:
            await runtime.aclose()

    return emit_result(asyncio.run(go()), args)


def cmd_resume(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import ProgressPrinter

    store = open_store(args)
    runtime = open_runtime(store)
    if args.run_id:
        return asyncio.run(carry_on(runtime, store.resolve_run_id(args.run_id), args))
    if not args.quiet:
        runtime.engine.bus.subscribe(ProgressPrinter())
    started()

    async def go() -> list[RunSnapshot]:
        try:
            return await runtime.engine.resume_all()
        finally:
            await runtime.aclose()

    runs = asyncio.run(go())
    if not runs:
        print("nothing to resume", file=sys.stderr)
        return EXIT_OK
    for run in runs:
        emit_result(run, argparse.Namespace(json=False))
    if args.json:
        print(json.dumps([r.to_cli_json() for r in runs], indent=2, default=str))
    return worst(runs)


def cmd_retry(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import ProgressPrinter

    store = open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    runtime = open_runtime(store)
    if not args.quiet:
        runtime.engine.bus.subscribe(ProgressPrinter(run_id))
    started()

    async def go() -> RunSnapshot:
        try:
            return await runtime.engine.retry(
                run_id, from_step=args.from_step,
                definition="original" if args.original else "current")
        finally:
            await runtime.aclose()

    return emit_result(asyncio.run(go()), args)


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "run", cmd_run,
                    "run a workflow file or a stored workflow by name")
    p.add_argument("workflow", metavar="FILE|NAME")
    p.add_argument("--input", metavar="JSON", help="run input as JSON, or @file.json")
    p.add_argument("--sample-input", action="store_true",
                   help="use the workflow's sample_input as the run input")
    p.add_argument("--draft", action="store_true",
                   help="run a stored workflow's draft instead of its published version")
    p.add_argument("--idempotency-key", metavar="KEY",
                   help="return the existing run if this key was used before")
    p.add_argument("--to", metavar="STEP",
                   help="run only STEP and the steps upstream of it (\"run to here\")")
    add_carry_flags(p)

    p = add_command(sub, common, "runs", cmd_runs, "list runs, newest first")
    p.add_argument("--workflow", metavar="NAME")
    p.add_argument("--status", action="append", choices=[s.value for s in RunStatus])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")

    p = add_command(sub, common, "show", cmd_show, "show a run's steps (and events)")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--events", action="store_true", help="also list the run's events")

    p = add_command(sub, common, "cancel", cmd_cancel, "cancel a running or paused run")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--reason")
    add_carry_flags(p)

    p = add_command(sub, common, "resume", cmd_resume,
                    "carry on interrupted runs (all of them with no RUN_ID)")
    p.add_argument("run_id", metavar="RUN_ID", nargs="?")
    add_carry_flags(p)

    p = add_command(sub, common, "retry", cmd_retry,
                    "run a failed run's failed and never-run steps again")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--from", dest="from_step", metavar="STEP",
                   help="re-run this step and everything downstream of it instead")
    p.add_argument("--original", action="store_true",
                   help="run the definition the run last ran, not the workflow as it is "
                        "saved now (the default)")
    add_carry_flags(p)
