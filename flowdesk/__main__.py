"""``python -m flowdesk`` is the same program as the ``flowdesk`` command (whose console
script is ``run`` below).

Start-up allocates only what lives as long as the process (modules, classes, the parsed
workflow), so the cyclic garbage collector is off from the first import on: its passes over
those objects were a fifth of a short ``flowdesk run``. ``flowdesk.cli.main`` turns it back
on — at once for the app and ``flowdesk serve``, once a run starts for the commands that
carry runs on — and always before it returns. When it has returned the process ends, and
the collector is not run over what is left.

A command line that opens the desktop app (``flowdesk.launch.opens_app``) gets its start-up
splash first (``flowdesk.ui.splash``), before ``flowdesk.cli`` imports sqlalchemy, pydantic
and the rest of flowdesk; the app closes it when its main window has painted, and it is
closed here if start-up ends before that.
"""

from __future__ import annotations

import gc
import sys


def run() -> int:
    gc.disable()
    splash = False
    try:
        from flowdesk.launch import database_named, opens_app

        argv = sys.argv[1:]
        if opens_app(argv):
            splash = _show_splash(database_named(argv))
        from flowdesk.cli import main

        return main()
    finally:
        if splash:
            from flowdesk.ui.splash import close_splash

            close_splash()
        # the process ends now: what is left is frozen out of the collector, so the
        # interpreter's last collection does not walk it (≈140 ms after a 10,000-step run,
        # for nothing: the memory goes back with the process)
        gc.freeze()


def _show_splash(database: str) -> bool:
    """Show the splash; without Qt (no ``gui`` extra) there is none, and ``flowdesk gui``
    then says how to install it."""
    try:
        from flowdesk.ui.splash import show_splash
    except ImportError:
        return False
    show_splash(database)
    return True


if __name__ == "__main__":
    sys.exit(run())
