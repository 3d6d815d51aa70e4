"""Commands about testing one step: ``test-step``, ``pin``, ``pins``.

Contract:
- ``test-step FILE|NAME STEP [--pin JSON|@file] [--input JSON|@file] [--json]`` runs only
  STEP (``flowdesk.engine.teststep``): its upstream outputs come from ``--pin``
  (``{"step_id": output, ...}``), else the workflow's pins (a stored workflow's, or a file's
  ``pins`` field), else each step's newest output in the workflow's runs. A NAME means the
  stored workflow's draft (what the editor shows). No run is recorded. It prints the step's
  output (``--json``: an object with status, output, error, input, attempts, upstream) on
  stdout and a summary on stderr; exit 0 when the step completed, 1 when it failed (or
  would wait), 2 for bad input (unknown step or workflow, bad JSON, an upstream step it
  reads with no data — the message names it).
- ``pin NAME STEP (JSON|@file | --from-run RUN | --clear)`` sets or removes a stored
  workflow's pin; ``pins NAME [--json]`` lists them. Pins never create a version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from flowdesk.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    UsageError,
    add_command,
    load_workflow,
    open_runtime,
    open_store,
    parse_json,
)

__all__ = ["cmd_pin", "cmd_pins", "cmd_test_step", "register"]


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def cmd_test_step(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_duration
    from flowdesk.engine.teststep import trial_step
    from flowdesk.model.pins import split_pins

    store = open_store(args)
    workflow, _ = load_workflow(args.workflow, lambda: store, draft=True)
    workflow, file_pins = split_pins(workflow)
    is_file = Path(args.workflow).exists() or args.workflow.endswith(".json")
    pins = dict(file_pins or {}) if is_file else store.get_pins(workflow.name)
    extra = parse_json(args.pin, "--pin")
    if extra is not None:
        if not isinstance(extra, dict):
            raise UsageError('--pin must be a JSON object: {"step_id": output, ...}')
        pins.update(extra)
    run_input = parse_json(args.input, "--input")
    runtime = open_runtime(store)

    async def go() -> Any:
        try:
            return await trial_step(workflow, args.step, registry=runtime.registry,
                                    services=runtime.services, history=store, pins=pins,
                                    run_input=run_input)
        finally:
            await runtime.aclose()

    trial = asyncio.run(go())
    sources = ", ".join(f"{sid} ({up.describe()})" for sid, up in trial.upstream.items())
    if sources:
        print(f"upstream: {sources}", file=sys.stderr)
    if args.json:
        print(_dump(trial.to_dict()))
    elif trial.ok:
        print(_dump(trial.output))
    summary = (f"step '{trial.step_id}' {trial.status.value} in "
               f"{fmt_duration(trial.duration_ms / 1000)}")
    if trial.attempts > 1:
        summary += f" after {trial.attempts} attempts"
    if trial.branch is not None:
        summary += f" → {trial.branch}"
    if trial.error:
        summary += f": {trial.error}"
    print(summary + " (test: no run recorded)", file=sys.stderr)
    return EXIT_OK if trial.ok else EXIT_FAILED


def cmd_pin(args: argparse.Namespace) -> int:
    store = open_store(args)
    workflow, _ = store.get_draft(args.name)
    if [args.value is not None, args.from_run is not None, args.clear].count(True) != 1:
        raise UsageError("give one of: a JSON value (or @file), --from-run RUN, --clear")
    if args.clear:
        removed = store.pins.clear_pins(args.name, [args.step])
        print(f"unpinned '{args.step}'" if removed else f"'{args.step}' was not pinned")
        return EXIT_OK
    if args.step not in {n.id for n in workflow.nodes}:
        raise UsageError(f"workflow '{args.name}' has no step '{args.step}' "
                         f"(its steps: {', '.join(n.id for n in workflow.nodes)})")
    if args.from_run is not None:
        run = store.get_run(store.resolve_run_id(args.from_run))
        step = run.steps.get(args.step)
        if step is None or step.output is None:
            raise UsageError(f"run {run.id[:8]} has no output of step '{args.step}'")
        output, origin = step.output, f"from run {run.id[:8]}"
    else:
        output, origin = parse_json(args.value, "the pinned value"), "as given"
    store.pins.set_pin(args.name, args.step, output)
    print(f"pinned '{args.step}' of '{args.name}' ({origin})")
    return EXIT_OK


def cmd_pins(args: argparse.Namespace) -> int:
    store = open_store(args)
    pins = store.get_pins(args.name)
    if args.json:
        print(_dump(pins))
        return EXIT_OK
    if not pins:
        print(f"'{args.name}' has no pinned steps", file=sys.stderr)
    for step_id, output in pins.items():
        text = json.dumps(output, ensure_ascii=False, default=str)
        print(f"{step_id}  {text if len(text) <= 100 else text[:99] + '…'}")
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "test-step", cmd_test_step,
                    "run one step on pinned or last-run upstream outputs (no run recorded)")
    p.add_argument("workflow", metavar="FILE|NAME")
    p.add_argument("step", metavar="STEP")
    p.add_argument("--pin", metavar="JSON|@file",
                   help='upstream outputs {"step_id": output, ...} (else pins, else last run)')
    p.add_argument("--input", metavar="JSON|@file",
                   help="the run input (default: the last run's, else sample_input)")
    p.add_argument("--json", action="store_true",
                   help="print the result (status, output, error, input...) as JSON")

    p = add_command(sub, common, "pin", cmd_pin,
                    "pin a step's output in a stored workflow (used by test-step)")
    p.add_argument("name")
    p.add_argument("step", metavar="STEP")
    p.add_argument("value", metavar="JSON|@file", nargs="?")
    p.add_argument("--from-run", metavar="RUN", help="pin what the step output in that run")
    p.add_argument("--clear", action="store_true", help="remove the step's pin")

    p = add_command(sub, common, "pins", cmd_pins, "list a stored workflow's pinned steps")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
