"""``python -m flowdesk`` is the same program as the ``flowdesk`` command (whose console
script is ``run`` below).

Start-up allocates only what lives as long as the process (modules, classes, the parsed
workflow), so the cyclic garbage collector is off from the first import on: its passes over
those objects were a fifth of a short ``flowdesk run``. ``flowdesk.cli.main`` turns it back
on — at once for the app and ``flowdesk serve``, once a run starts for the commands that
carry runs on — and always before it returns. When it has returned the process ends, and
the collector is not run over what is left.
"""

from __future__ import annotations

import gc
import sys


def run() -> int:
    gc.disable()
    try:
        from flowdesk.cli import main

        return main()
    finally:
        # the process ends now: what is left is frozen out of the collector, so the
        # interpreter's last collection does not walk it (≈140 ms after a 10,000-step run,
        # for nothing: the memory goes back with the process)
        gc.freeze()


if __name__ == "__main__":
    sys.exit(run())
