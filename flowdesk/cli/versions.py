"""Commands about a stored workflow's versions: ``versions``, ``diff``, ``restore``.

Contract: ``versions NAME`` lists every version (number, time, node count, note; the live one
marked); ``diff NAME V1 V2`` prints one line per change naming step ids (``--json`` for the
same as an object; ``draft`` may stand for a version number); ``restore NAME V`` publishes
V's content as a new version (nothing is deleted). An unknown workflow or version exits 2
with a message naming it, like every other bad input of the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flowdesk.cli.common import Commands, add_command, open_store
from flowdesk.model.errors import FlowdeskError
from flowdesk.model.workflow import Workflow

__all__ = ["cmd_diff", "cmd_restore", "cmd_versions", "register"]

EXIT_OK = 0


def _store(args: argparse.Namespace) -> Any:
    return open_store(args)


def _version_ref(text: str) -> int | None:
    """A version number, or None for ``draft``."""
    if text == "draft":
        return None
    if not text.isdigit() or int(text) < 1:
        raise FlowdeskError(f"'{text}' is not a version number (1, 2, ... or 'draft')")
    return int(text)


def cmd_versions(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_time, print_table

    store = _store(args)
    items = store.versions.list_versions(args.name)
    differs = store.versions.draft_differs(args.name)
    if args.json:
        print(json.dumps({"versions": [{"version": v.version, "created_at": v.created_at,
                                        "nodes": v.nodes, "note": v.note,
                                        "published": v.published} for v in items],
                          "draft_differs": differs}, indent=2))
        return EXIT_OK
    print_table([[f"{v.version}{' (live)' if v.published else ''}", fmt_time(v.created_at),
                  str(v.nodes), v.note or ""] for v in items],
                ["VERSION", "SAVED", "NODES", "NOTE"])
    if differs:
        print(f"the draft differs from the live version {items[-1].version} "
              f"(see: flowdesk diff '{args.name}' {items[-1].version} draft)", file=sys.stderr)
    return EXIT_OK


def _workflow_at(store: Any, name: str, ref: int | None) -> Workflow:
    if ref is None:
        workflow: Workflow = store.versions.draft(name)[0]
        return workflow
    return store.versions.version(name, ref)  # type: ignore[no-any-return]


def cmd_diff(args: argparse.Namespace) -> int:
    from flowdesk.model.diff import diff_workflows

    old_ref, new_ref = _version_ref(args.v1), _version_ref(args.v2)
    store = _store(args)
    diff = diff_workflows(_workflow_at(store, args.name, old_ref),
                          _workflow_at(store, args.name, new_ref))
    if args.json:
        print(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    lines = diff.lines()
    for line in lines:
        print(line)
    if not lines:
        print(f"no differences between {args.v1} and {args.v2}", file=sys.stderr)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    ref = _version_ref(args.version)
    if ref is None:
        raise FlowdeskError("restore takes a version number, not 'draft'")
    store = _store(args)
    version, created = store.versions.restore(args.name, ref)
    if created:
        print(f"restored '{args.name}' version {ref} as version {version} (published)")
    else:
        print(f"'{args.name}' version {version} already has the content of version {ref}; "
              "nothing new recorded (the draft is that content again)")
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    def add(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        return add_command(sub, common, name, func, help)

    p = add("versions", cmd_versions, "list a stored workflow's versions")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")

    p = add("diff", cmd_diff, "what changed between two versions of a stored workflow")
    p.add_argument("name")
    p.add_argument("v1", metavar="V1", help="a version number, or 'draft'")
    p.add_argument("v2", metavar="V2", help="a version number, or 'draft'")
    p.add_argument("--json", action="store_true")

    p = add("restore", cmd_restore,
            "publish an old version's content as a new version (nothing is deleted)")
    p.add_argument("name")
    p.add_argument("version", metavar="V")
