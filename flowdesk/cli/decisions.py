"""Commands that answer a waiting run: ``approve``, ``reject``, ``send-event``, and
``approvals`` (what is waiting). A decision or an event is recorded first, then the run is
carried on in this process like ``flowdesk run``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from flowdesk.cli.common import (
    EXIT_OK,
    Commands,
    add_carry_flags,
    add_command,
    carry_on,
    emit_result,
    open_runtime,
    open_store,
    parse_json,
    worst,
)
from flowdesk.model.run import RunSnapshot

__all__ = ["cmd_approvals", "cmd_approve", "cmd_reject", "cmd_send_event", "register"]


def _decide(args: argparse.Namespace, approved: bool) -> int:
    store = open_store(args)
    run_id = store.resolve_run_id(args.run_id)
    data = parse_json(args.data, "--data")
    runtime = open_runtime(store)
    runtime.engine.decide(run_id, args.step_id, approved=approved,
                          comment=args.comment or "", data=data)
    print(f"{'approved' if approved else 'rejected'} step '{args.step_id}' of run "
          f"{run_id[:8]}", file=sys.stderr)
    return asyncio.run(carry_on(runtime, run_id, args))


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, True)


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, False)


def cmd_send_event(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import ProgressPrinter

    store = open_store(args)
    data = parse_json(args.data, "--data")
    runtime = open_runtime(store)
    engine = runtime.engine
    run_ids = engine.send_event(args.name, args.key, data)
    if not run_ids:
        keep = float(store.get_setting("events.keep_seconds", 7 * 24 * 3600))
        print(f"no run is waiting for '{args.name}'"
              f"{f' with key {args.key!r}' if args.key else ''}; the event is kept for "
              f"{keep / 3600:g} h for the first step that waits for it", file=sys.stderr)
        asyncio.run(runtime.aclose())
        return EXIT_OK
    if len(run_ids) == 1:
        return asyncio.run(carry_on(runtime, run_ids[0], args))
    if not args.quiet:
        engine.bus.subscribe(ProgressPrinter())

    async def go() -> list[RunSnapshot]:
        from flowdesk.engine import RunClaimed

        try:
            out = []
            for run_id in run_ids:
                try:
                    out.append(await engine.execute(run_id))
                except RunClaimed:
                    out.append(await engine.follow(run_id))
            return out
        finally:
            await runtime.aclose()

    runs = asyncio.run(go())
    for run in runs:
        emit_result(run, argparse.Namespace(json=False))
    return worst(runs)


def cmd_approvals(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_time, print_table

    store = open_store(args)
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


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    for name, func, verb in (("approve", cmd_approve, "approve"),
                             ("reject", cmd_reject, "reject")):
        p = add_command(sub, common, name, func,
                        f"{verb} a waiting approval step and carry the run on")
        p.add_argument("run_id", metavar="RUN_ID")
        p.add_argument("step_id", metavar="STEP_ID")
        p.add_argument("--comment", metavar="TEXT")
        p.add_argument("--data", metavar="JSON", help="JSON data for the step's output")
        add_carry_flags(p)

    p = add_command(sub, common, "send-event", cmd_send_event,
                    "send an event to the steps waiting for it")
    p.add_argument("name")
    p.add_argument("--key", help="the correlation key")
    p.add_argument("--data", metavar="JSON")
    add_carry_flags(p)

    p = add_command(sub, common, "approvals", cmd_approvals,
                    "list the approvals waiting for a decision")
    p.add_argument("--all", action="store_true", help="also list steps waiting for events")
    p.add_argument("--json", action="store_true")
