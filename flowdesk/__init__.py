"""flowdesk: a desktop visual workflow editor and runner.

The headless parts (model, engine, steps, store) import no Qt and can be used on their own;
``flowdesk.cli`` is the command line and ``flowdesk.app`` the desktop composition root.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
