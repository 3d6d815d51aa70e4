"""Commands about workflow definitions: ``validate``, ``import``, ``export``, ``workflows``,
``steps``. None of them runs anything; ``validate`` and ``steps`` open no database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowdesk.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    Commands,
    add_command,
    load_file,
    open_store,
)
from flowdesk.model.errors import WorkflowInvalid

__all__ = ["cmd_export", "cmd_import", "cmd_steps", "cmd_validate", "cmd_workflows",
           "register"]


def cmd_validate(args: argparse.Namespace) -> int:
    from flowdesk.engine.validation import validate
    from flowdesk.runtime import step_registry

    workflow = load_file(args.file)
    problems = validate(workflow, step_registry())
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{args.file}: valid ({len(workflow.nodes)} steps, {len(workflow.edges)} edges)")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from flowdesk.engine.validation import validate
    from flowdesk.model.pins import split_pins
    from flowdesk.runtime import step_registry

    workflow, pins = split_pins(load_file(args.file))
    if args.name:
        workflow = workflow.model_copy(update={"name": args.name})
    problems = validate(workflow, step_registry())
    if problems and not args.force:
        raise WorkflowInvalid(problems, f"{args.file}")
    store = open_store(args)
    existed = store.has_workflow(workflow.name)
    from flowdesk.engine.layout import place_if_unplaced

    # a file without positions is stored laid out; an update keeps the stored steps' places
    place_if_unplaced(workflow, store.get_draft(workflow.name)[0] if existed else None)
    version, created = store.versions.publish(workflow, args.note)
    verb = "imported" if not existed else "updated" if created else "unchanged, kept"
    print(f"{verb} '{workflow.name}' (version {version})")
    if pins is not None:
        # a file exported --with-pins: its pins become the stored workflow's (no version)
        store.set_pins(workflow.name, pins)
        print(f"  {len(pins)} pinned step(s) stored", file=sys.stderr)
    for problem in problems:
        print(f"  warning: {problem}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(args)
    workflow, _ = (store.get_draft if args.draft else store.get_workflow)(args.name)
    if args.with_pins:
        from flowdesk.model.pins import with_pins

        workflow = with_pins(workflow, store.get_pins(args.name))
    text = workflow.to_json() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"exported '{workflow.name}' to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_workflows(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_time, print_table

    store = open_store(args)
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
    from flowdesk.cli.format import print_table
    from flowdesk.runtime import step_registry

    catalog = step_registry().catalog()
    print_table([[c.type, c.category, c.label, c.description] for c in catalog],
                ["TYPE", "CATEGORY", "LABEL", "DESCRIPTION"])
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "validate", cmd_validate,
                    "check a workflow file and list every problem")
    p.add_argument("file")

    p = add_command(sub, common, "import", cmd_import, "store a workflow file in the database")
    p.add_argument("file")
    p.add_argument("--name", help="store under this name instead of the file's")
    p.add_argument("--force", action="store_true", help="import even if it has problems")
    p.add_argument("--note", help="a note kept with the version this import publishes")

    p = add_command(sub, common, "export", cmd_export, "write a stored workflow as JSON")
    p.add_argument("name")
    p.add_argument("-o", "--output", metavar="FILE")
    p.add_argument("--draft", action="store_true",
                   help="export the draft instead of the published version")
    p.add_argument("--with-pins", action="store_true",
                   help="include the pinned step outputs (a top-level 'pins' object)")

    p = add_command(sub, common, "workflows", cmd_workflows, "list stored workflows")
    p.add_argument("--json", action="store_true", help="print them as a JSON list")
    add_command(sub, common, "steps", cmd_steps, "list the step types")
