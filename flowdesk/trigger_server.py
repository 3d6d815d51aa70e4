"""The headless trigger service behind ``flowdesk serve``: a webhook listener, the cron
schedules, resuming interrupted runs, and daily pruning — all on the engine's asyncio loop.

HTTP is spoken with h11 (a small, well-kept HTTP/1.1 state machine that httpx already uses),
so the listener runs on the same loop as the engine with no extra server framework.

    POST /hooks/<path>   start the workflow whose webhook node has that path
                         (secret: header X-Flowdesk-Secret or ?secret=) → 202 {"run_id"}
                         once the run is on disk, synced (group commit: flowdesk.webhooks);
                         503 when it could not be stored (nothing kept)
                         wrong/missing secret 401 · unknown path 404 · wrong method 405 ·
                         body over the limit 413 · a body that is not UTF-8, or is sent
                         as application/json and is not valid JSON → 400, no run
    GET  /health         200 {"ok": true, "runs_started", "webhook_groups"}

The body becomes the run's ``input.body``: parsed when it is JSON (whatever the content type
says, as before), else the text. Whatever a client sends, it gets an answer: an unexpected
error in routing is logged and answered 500, never left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11

from flowdesk.api import ApiHandler
from flowdesk.engine import Engine
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.model.errors import FlowdeskError, StoreError
from flowdesk.model.run import RunSnapshot
from flowdesk.model.workflow import Workflow
from flowdesk.run_queue import DEFAULT_MAX_RUNS, RunQueue
from flowdesk.webhooks import HookRequest, RouteTable, WebhookIntake

__all__ = ["TriggerServer"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
KEEP_ALIVE_IDLE = 5.0  # seconds a kept-alive connection may wait for its next request
REQUEST_TIMEOUT = 30.0  # seconds for a request to arrive whole once it has begun
MAX_REQUESTS_PER_CONNECTION = 1000


class TriggerServer:
    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 8686,
                 max_body: int = MAX_BODY, tick_seconds: float = 1.0,
                 max_runs: int = DEFAULT_MAX_RUNS) -> None:
        self.engine = engine
        self.store: Any = engine.store
        self.host, self.port = host, port
        self.max_body = max_body
        self.tick_seconds = tick_seconds
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[Any]] = []
        self.started_runs: list[str] = []
        self.queue = RunQueue(engine, self._carry_on, self._spawn, max_runs=max_runs)
        self.api = ApiHandler(engine, self._spawn, self._carry_on, queue=self.queue)
        self._connections: set[asyncio.Task[Any]] = set()
        self.routes = RouteTable(engine)
        self.intake = WebhookIntake(engine, self.routes, self._go_on_fresh, queue=self.queue)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        sockets: list[Any] = list(self._server.sockets or [])
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.intake.start()
        self._loops = [asyncio.ensure_future(self._schedules()),
                       asyncio.ensure_future(self._housekeeping())]
        self.queue.start()
        log.info("listening on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            # kept-alive connections idle in their handlers: end them, or wait_closed waits
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
        await self.intake.stop()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.queue.stop()
        # runs still going stay "running" in the store and are resumed on the next start
        self.engine.shutting_down = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _carry_on(self, run_id: str, fresh: RunSnapshot | None = None,
                        graph: WorkflowGraph | None = None) -> None:
        try:
            await self.engine.carry_on(run_id, fresh=fresh, graph=graph)
        except FlowdeskError as exc:
            log.warning("run %s: %s", run_id[:8], exc)

    def _go_on_fresh(self, run: RunSnapshot | None, graph: WorkflowGraph | None,
                     run_id: str | None = None) -> None:
        """A webhook run was accepted (durably): claimed by this engine (``run``), execute
        it; queued (``run_id`` only, the worker was full), let the queue hand it out."""
        if run is None:
            assert run_id is not None
            self.started_runs.append(run_id)
            self.queue.wake()
            return
        self.started_runs.append(run.id)
        self.queue.run_here(run.id, self._carry_on(run.id, run, graph))

    def start_run(self, workflow: Workflow, run_input: Any, version: int | None = None) -> str:
        """Record a run (a schedule's): executed here when this worker has room, else
        queued for any worker of the database."""
        here = self.queue.has_room()
        run, created = self.engine.start(workflow, run_input, workflow_version=version,
                                         queue=not here)
        if created:
            self.started_runs.append(run.id)
            if here:
                self.queue.run_here(run.id)
            else:
                self.queue.wake()
        return run.id

    # -- schedules ---------------------------------------------------------------------------
    async def _schedules(self) -> None:
        while True:
            try:
                self.fire_due_schedules(time.time())
            except StoreError as exc:  # the database is busy or gone: try on the next tick
                log.warning("schedules not checked: %s", exc)
            await asyncio.sleep(self.tick_seconds)

    def fire_due_schedules(self, now: float) -> list[str]:
        """Start the runs of the schedules due at ``now``; the ids of the runs started.

        The last firing of each schedule is kept in the database and a firing is claimed
        with one conditional UPDATE (it happens only if the last firing is still the one
        read here), so of several workers on one database — or the app and a worker —
        exactly one starts each due run."""
        from zoneinfo import ZoneInfo

        from croniter import croniter

        try:
            self.routes.refresh()
        except FlowdeskError as exc:
            log.warning("schedules: %s", exc)
        started: list[str] = []
        for route in self.routes.triggers("schedule"):
            workflow, config, node_id, version = (route.workflow, route.config,
                                                  route.node_id, route.version)
            cron = config.get("cron")
            if not cron or not croniter.is_valid(cron):
                continue
            key = f"schedule.last:{workflow.name}:{node_id}"
            last = self.store.get_setting(key)
            zone = ZoneInfo(config.get("timezone") or "UTC")
            if last is None:  # first sight: start counting from now, fire nothing old
                self.store.add_setting(key, now)
                continue
            due = croniter(cron, datetime.fromtimestamp(last, zone)).get_next(float)
            if due > now or not self.store.replace_setting(key, last, now):
                continue  # not due yet, or another process fired it
            scheduled = datetime.fromtimestamp(due, UTC).isoformat()
            try:
                started.append(self.start_run(
                    workflow, {"scheduled_at": scheduled, "cron": cron}, version))
            except FlowdeskError as exc:
                log.warning("schedule of '%s' could not start: %s", workflow.name, exc)
        return started

    async def _housekeeping(self) -> None:
        last_prune = 0.0
        while True:
            for run_id in self.store.resumable_runs(queued=False):  # the queue takes those
                if not self.engine.is_active(run_id):
                    self._spawn(self._carry_on(run_id))
            if time.time() - last_prune > 86400:
                last_prune = time.time()
                days = float(self.store.get_setting("runs.keep_days", 30))
                await asyncio.to_thread(self.store.prune_runs, time.time() - days * 86400)
            await asyncio.sleep(5 * self.tick_seconds)

    # -- HTTP --------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: requests in turn (HTTP/1.1 keep-alive) until the client closes it,
        asks to, stays idle for ``KEEP_ALIVE_IDLE`` seconds, or has sent
        ``MAX_REQUESTS_PER_CONNECTION``. A request must arrive whole within ``REQUEST_TIMEOUT``
        seconds of its first byte, so slow clients hold a connection, never the server."""
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        served = 0
        this = asyncio.current_task()
        if this is not None:
            self._connections.add(this)
        try:
            while True:
                request, body, too_large = await self._read_request(conn, reader, served)
                if request is None:
                    return
                served += 1
                keep = (served < MAX_REQUESTS_PER_CONNECTION and not too_large
                        and conn.their_http_version == b"1.1")
                if too_large:
                    status, payload = 413, {"error": "body too large"}
                else:
                    try:
                        path = urlsplit(request.target.decode("latin-1")).path
                        if path == "/api" or path.startswith("/api/"):
                            status, payload = await self.api.handle(
                                request.method.decode(), path,
                                {k.decode("latin-1").lower(): v.decode("latin-1")
                                 for k, v in request.headers}, body)
                        else:
                            status, payload = await self._route(request, body)
                    except Exception:  # a bug of ours must not leave the client unanswered
                        log.exception("webhook request %r failed", request.target[:200])
                        status, payload = 500, {"error": "internal error; see the server log"}
                await self._send(conn, writer, status, payload, keep_alive=keep)
                if conn.our_state is h11.MUST_CLOSE or not keep:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, TimeoutError, ConnectionError):
            with contextlib.suppress(Exception):
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await self._send(conn, writer, 400, {"error": "bad request"},
                                     keep_alive=False)
        except asyncio.CancelledError:
            pass  # the server is stopping: this kept-alive connection ends here
        finally:
            self._connections.discard(this)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader,
                            served: int) -> tuple[h11.Request | None, bytes, bool]:
        """The next request and its body (None at the end of the connection); True when its
        body is over the limit (the connection then closes after the 413)."""
        request: h11.Request | None = None
        body = bytearray()
        deadline: float | None = None
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if deadline is None:
                    # between requests a kept-alive connection may idle; once bytes arrive
                    # the whole request must follow in time
                    wait = KEEP_ALIVE_IDLE if served else REQUEST_TIMEOUT
                    # (asyncio.timeout, not wait_for: no task made per read)
                    try:
                        async with asyncio.timeout(wait):
                            data = await reader.read(65536)
                    except TimeoutError:
                        if served:  # a kept-alive connection left idle: close it quietly
                            return None, b"", False
                        raise
                    deadline = asyncio.get_running_loop().time() + REQUEST_TIMEOUT
                else:
                    async with asyncio.timeout_at(deadline):
                        data = await reader.read(65536)
                conn.receive_data(data)
                if not data and request is None:
                    return None, b"", False
                continue
            if isinstance(event, h11.Request):
                request = event
                length = dict(request.headers).get(b"content-length")
                if length is not None and length.isdigit() and int(length) > self.max_body:
                    return request, b"", True
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body:
                    return request, b"", True
            elif isinstance(event, h11.EndOfMessage):
                return request, bytes(body), False
            elif isinstance(event, h11.ConnectionClosed):
                return None, b"", False

    async def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int,
                    payload: dict[str, Any], *, keep_alive: bool = False) -> None:
        data = json.dumps(payload).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
        if status == 503:
            headers.append(("retry-after", "1"))
        if not keep_alive:
            headers.append(("connection", "close"))
        # one write, one send(2): head, body and end together
        writer.write(b"".join((conn.send(h11.Response(status_code=status, headers=headers))
                               or b"", conn.send(h11.Data(data=data)) or b"",
                               conn.send(h11.EndOfMessage()) or b"")))
        await writer.drain()

    async def _route(self, request: h11.Request, body: bytes) -> tuple[int, dict[str, Any]]:
        target = urlsplit(request.target.decode("latin-1"))
        if target.path == "/health":
            return 200, {"ok": True, "runs_started": len(self.started_runs),
                         "webhook_groups": self.intake.groups}
        if not target.path.startswith("/hooks/"):
            return 404, {"error": "not found"}
        return await self.intake.submit(HookRequest(
            method=request.method.decode(),
            path=target.path.removeprefix("/hooks/").strip("/"),
            query={k: v[0] if len(v) == 1 else v for k, v in parse_qs(target.query).items()},
            headers={k.decode("latin-1").lower(): v.decode("latin-1")
                     for k, v in request.headers},
            body=body))
