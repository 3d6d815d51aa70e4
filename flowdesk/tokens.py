"""API tokens for ``flowdesk serve``'s HTTP API: created by name, shown once, kept hashed.

A token is 32 random bytes (URL-safe text, prefixed ``fd_`` so it is recognisable in a
leak scan). The database keeps only its SHA-256, under the setting ``api.token:<name>``, with
when it was made and, once revoked, when. Checking a token hashes it and compares in constant
time with every live token's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["TokenInfo", "TokenStore", "create_token", "list_tokens", "revoke_token",
           "verify_token"]

_PREFIX = "api.token:"


class TokenStore(Protocol):
    def get_setting(self, key: str, default: Any = None) -> Any: ...
    def set_setting(self, key: str, value: Any) -> None: ...
    def all_settings(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created_at: float
    revoked_at: float | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: TokenStore, name: str) -> str:
    """A new token for ``name`` (ValueError if a live one has that name); returned once."""
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise ValueError("a token needs a name without spaces, e.g. ci-bot")
    existing = store.get_setting(_PREFIX + name)
    if existing is not None and existing.get("revoked_at") is None:
        raise ValueError(f"a token named '{name}' exists; revoke it first")
    token = "fd_" + secrets.token_urlsafe(32)
    store.set_setting(_PREFIX + name, {"sha256": _digest(token), "created_at": time.time(),
                                       "revoked_at": None})
    return token


def list_tokens(store: TokenStore) -> list[TokenInfo]:
    return sorted((TokenInfo(key.removeprefix(_PREFIX), value.get("created_at", 0.0),
                             value.get("revoked_at"))
                   for key, value in store.all_settings().items()
                   if key.startswith(_PREFIX) and isinstance(value, dict)),
                  key=lambda t: t.created_at)


def revoke_token(store: TokenStore, name: str) -> None:
    """Revoke a token (KeyError if there is none of that name); it stops working at once."""
    value = store.get_setting(_PREFIX + name)
    if value is None:
        raise KeyError(name)
    if value.get("revoked_at") is None:
        store.set_setting(_PREFIX + name, {**value, "revoked_at": time.time()})


def verify_token(store: TokenStore, token: str) -> str | None:
    """The name of the live token ``token`` is, or None."""
    digest = _digest(token)
    found = None
    for key, value in store.all_settings().items():
        if not key.startswith(_PREFIX) or not isinstance(value, dict):
            continue
        if value.get("revoked_at") is None and hmac.compare_digest(
                str(value.get("sha256", "")), digest):
            found = key.removeprefix(_PREFIX)
    return found
