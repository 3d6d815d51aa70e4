"""Telling an n8n export from a flowdesk file, cheaply: ``is_n8n_export(data)`` looks at the
parsed JSON only, so reading a flowdesk file never imports the n8n converter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["is_n8n_export"]

_PREFIXES = ("n8n-nodes-base.", "@n8n/", "n8n-nodes-")


def is_n8n_export(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        return False
    if not isinstance(data.get("connections", {}), Mapping):
        return False
    if not all(isinstance(n, Mapping) and isinstance(n.get("type"), str)
               and isinstance(n.get("name"), str) for n in nodes):
        return False
    # community nodes ("@acme/n8n-nodes-x.y") count as long as one node is n8n's own, or
    # every node has n8n's shape (a typeVersion and an [x, y] position)
    return any(n["type"].startswith(_PREFIXES) for n in nodes) or all(
        "typeVersion" in n and isinstance(n.get("position"), list) for n in nodes)
