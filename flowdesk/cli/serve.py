"""``flowdesk serve``: the trigger server (webhooks, schedules, resuming runs) without a
window, on the runtime every other command uses, until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import sys

from flowdesk.cli.common import EXIT_OK, Commands, UsageError, add_command, open_runtime, open_store
from flowdesk.run_queue import DEFAULT_MAX_RUNS

__all__ = ["cmd_serve", "register"]


def cmd_serve(args: argparse.Namespace) -> int:
    import gc
    import signal

    from flowdesk.trigger_server import TriggerServer

    runtime = open_runtime(open_store(args))

    async def go() -> None:
        service = TriggerServer(runtime.engine, args.host, args.port, max_runs=args.max_runs)
        await service.start()
        # what start-up built (modules, schemas, the runtime) lives as long as the process:
        # keep the cyclic collector from walking it again at each full collection, which
        # paused the loop for 50-90 ms under webhook load (8-14 ms frozen)
        gc.collect()
        gc.freeze()
        print(f"flowdesk serve: listening on http://{service.host}:{service.port} "
              "(webhooks at /hooks/<path>); schedules on; Ctrl+C or SIGTERM to stop",
              file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("flowdesk serve: stopping; running runs will resume on the next start",
              file=sys.stderr, flush=True)
        await service.stop()
        await runtime.aclose()

    try:
        asyncio.run(go())
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return EXIT_OK


def register(sub: Commands, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "serve", cmd_serve,
                    "headless: webhook listener, schedules, resumes runs")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    p.add_argument("--port", type=int, default=8686)
    p.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS, metavar="N",
                   help="runs this worker executes at once; more wait in the queue for any "
                        f"worker of the database (default {DEFAULT_MAX_RUNS})")
