"""``flowdesk tokens create|list|revoke``: the bearer tokens of the HTTP API
(flowdesk/api.py). A token is printed once, at creation; the database keeps only its hash."""

from __future__ import annotations

import argparse
import sys

from flowdesk.cli.common import EXIT_OK, Commands, UsageError, add_command, open_store

__all__ = ["cmd_tokens", "register"]


def cmd_tokens(args: argparse.Namespace) -> int:
    from flowdesk.cli.format import fmt_time, print_table
    from flowdesk.tokens import create_token, list_tokens, revoke_token

    store = open_store(args)
    if args.action == "list":
        items = list_tokens(store)
        if not items:
            print("no tokens; make one with `flowdesk tokens create NAME`", file=sys.stderr)
            return EXIT_OK
        print_table([[t.name, fmt_time(t.created_at),
                      "revoked " + fmt_time(t.revoked_at) if t.revoked_at else "live"]
                     for t in items], ["NAME", "CREATED", "STATE"])
        return EXIT_OK
    if not args.name:
        raise UsageError(f"`flowdesk tokens {args.action}` needs a NAME")
    if args.action == "create":
        try:
            token = create_token(store, args.name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(token)
        print(f"token '{args.name}' created; it is shown only now: keep it somewhere safe",
              file=sys.stderr)
        return EXIT_OK
    try:
        revoke_token(store, args.name)
    except KeyError:
        raise UsageError(f"no token named '{args.name}'") from None
    print(f"token '{args.name}' revoked", file=sys.stderr)
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "tokens", cmd_tokens,
                    "API tokens for flowdesk serve's /api/v1 (printed once, stored hashed)")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?")
