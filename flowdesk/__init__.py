"""flowdesk: a desktop visual workflow editor and runner.

The headless parts (model, engine, steps, store) import no Qt and can be used on their own;
``flowdesk.runtime`` builds what runs workflows (the composition root), and the command line
(``flowdesk.cli``), the desktop app (``flowdesk.app``) and ``flowdesk serve`` use it.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
