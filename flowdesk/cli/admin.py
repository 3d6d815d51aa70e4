"""Housekeeping commands: ``prune`` (old runs), ``config`` (settings kept in the database),
``secrets`` (credentials kept apart from workflows) and ``install-desktop`` (the menu entry).
"""

from __future__ import annotations

import argparse
import json
import sys

from flowdesk.cli.common import EXIT_OK, Commands, UsageError, add_command, open_store, parse_json

__all__ = ["cmd_config", "cmd_install_desktop", "cmd_prune", "cmd_secrets", "register"]


def cmd_prune(args: argparse.Namespace) -> int:
    import time as _time

    store = open_store(args)
    days = args.keep_days if args.keep_days is not None else float(
        store.get_setting("runs.keep_days", 30))
    removed = store.prune_runs(_time.time() - days * 86400)
    print(f"removed {removed} run(s) that ended more than {days:g} day(s) ago",
          file=sys.stderr)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    store = open_store(args)
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
        value = parse_json(value_text, "the secret value") if args.json else value_text
        store.set(args.name, value)
        print(f"stored secret '{args.name}' in the {store.backend}", file=sys.stderr)
        return EXIT_OK
    except SecretsError as exc:
        raise UsageError(str(exc)) from None


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from flowdesk.desktop import install_desktop_entry

    paths = install_desktop_entry()
    for path in paths:
        print(path)
    print("flowdesk is now in your applications menu", file=sys.stderr)
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "prune", cmd_prune,
                    "delete old finished runs and compact the database")
    p.add_argument("--keep-days", type=float, help="default: the runs.keep_days setting (30)")

    add_command(sub, common, "install-desktop", cmd_install_desktop,
                "add flowdesk to the applications menu (a .desktop entry and icons)")

    p = add_command(sub, common, "secrets", cmd_secrets,
                    "store credentials apart from workflows (value on stdin)")
    p.add_argument("action", choices=["set", "list", "delete"])
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true",
                   help="the value is a JSON object (a credential: host, username...)")

    p = add_command(sub, common, "config", cmd_config,
                    "show or change settings kept in the database")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
