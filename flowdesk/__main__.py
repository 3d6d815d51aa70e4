"""``python -m flowdesk`` is the same program as the ``flowdesk`` command."""

from __future__ import annotations

import sys

from flowdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
