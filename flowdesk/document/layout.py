"""Auto-layout for the editor: see ``flowdesk.engine.layout`` (headless, so that importing a
file without positions on the command line lays it out too)."""

from __future__ import annotations

from flowdesk.engine.layout import layered_layout

__all__ = ["layered_layout"]
