"""Webhook intake for ``flowdesk serve``: the route table and group commit.

Contract:
- ``RouteTable`` holds the trigger nodes of the stored workflows (published versions) in
  memory. ``refresh()`` reads the store's workflow fingerprint (one small query) and reloads
  the table only when it changed, so a workflow published, renamed or deleted by any process
  is what the next request is routed by; nothing is served from a table older than that read.
- ``WebhookIntake.submit(request)`` answers one ``POST /hooks/<path>`` request. Requests
  that arrive while the previous group is being written form the next group: the group
  refreshes the route table once (after every member arrived: no member is routed by a
  table older than its arrival), routes and validates each member in memory, records all
  the runs it accepts in ONE transaction, makes them durable with ONE sync
  (``RunIntake.sync``), and only then answers them 202 and starts executing them. A group
  whose write or sync fails answers 503 to every member it would have accepted, and keeps
  none of their runs (a failed sync removes the runs its commit had recorded).
- Members refused by routing (404, 405, 401, 400, 422) are answered in the same pass.
- A member with an ``Idempotency-Key`` (or ``X-Idempotency-Key``) header that a run of the
  same workflow used before — recorded earlier, or by an earlier member of the same group —
  is answered 202 with that run's id and ``"created": false``, and nothing is recorded for
  it. Two workers recording the same key at once: the unique index refuses the second
  group's write (503, nothing kept) and the caller's retry finds the run.
- With a run queue (``flowdesk.run_queue``), the members beyond this worker's room are
  recorded queued (owned by nobody) for any worker of the database to take.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdesk.engine import Engine
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.validation import check
from flowdesk.model.errors import FlowdeskError, StoreError
from flowdesk.model.jsontext import JsonTextError, parse_json
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow
from flowdesk.store.intake import NewRun
from flowdesk.store.runs import idempotency_scope

if TYPE_CHECKING:
    from flowdesk.run_queue import RunQueue

__all__ = ["HookRequest", "Route", "RouteTable", "WebhookIntake", "parse_body"]

log = logging.getLogger(__name__)

TRIGGER_TYPES = ("webhook", "schedule")
Answer = tuple[int, dict[str, Any]]


def parse_body(body: bytes, content_type: str) -> tuple[Any, str | None]:
    """(the run's input.body, None) or (None, why the body is refused)."""
    if not body:
        return None, None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the body is not valid UTF-8 (byte {exc.start}): send UTF-8 text or JSON"
    media = content_type.split(";")[0].strip().lower()
    declared_json = media == "application/json" or media.endswith("+json")
    try:
        return parse_json(text), None
    except JsonTextError as exc:
        if declared_json:
            return None, f"the body is sent as {media} but is {exc}"
        return text, None


@dataclass(frozen=True, eq=False)
class Route:
    """One trigger node of a stored workflow's published version, with what a run of it
    needs, computed once per table load: the definition's JSON text and its validity."""

    workflow: Workflow
    graph: WorkflowGraph
    config: dict[str, Any]
    node_id: str
    node_type: str
    version: int
    workflow_id: int | None
    definition: str
    step_ids: tuple[str, ...]
    problem: str | None  # why the workflow cannot run (validation), or None


class RouteTable:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store: Any = engine.store
        self._routes: list[Route] = []
        self._hooks: dict[str, Route] = {}
        self._fingerprint: tuple[Any, ...] | None = None

    def refresh(self) -> None:
        """Reload when the stored workflows changed since the last load (StoreError when
        the database cannot be read)."""
        fingerprint = self.store.intake.routes_fingerprint()
        if fingerprint == self._fingerprint:
            return
        table: list[Route] = []
        for wf_id, name, _version, _updated in fingerprint:
            try:
                workflow, version = self.store.get_workflow(name)
            except StoreError:
                raise  # unreadable now: no table from a partial read (the group gets 503)
            except FlowdeskError:
                continue  # deleted meanwhile, or a definition that does not load
            triggers = [n for n in workflow.nodes if n.type in TRIGGER_TYPES]
            if not triggers:
                continue
            try:
                check(workflow, self.engine.registry)  # once per load, not per request
                problem = None
            except FlowdeskError as exc:
                problem = str(exc)
            definition = workflow.to_json(indent=None)
            step_ids = tuple(n.id for n in workflow.nodes)
            graph = WorkflowGraph(workflow)
            table.extend(Route(workflow, graph, node.data.config, node.id, node.type, version,
                               wf_id, definition, step_ids, problem) for node in triggers)
        hooks: dict[str, Route] = {}
        for route in table:
            if route.node_type == "webhook":
                hooks.setdefault((route.config.get("path") or "").strip("/"), route)
        self._routes, self._hooks, self._fingerprint = table, hooks, fingerprint

    def triggers(self, node_type: str) -> list[Route]:
        return [r for r in self._routes if r.node_type == node_type]

    def webhook(self, path: str) -> Route | None:
        return self._hooks.get(path)


@dataclass(eq=False)
class HookRequest:
    method: str
    path: str  # without /hooks/ and surrounding slashes
    query: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    answer: asyncio.Future[Answer] = field(init=False)


@dataclass(eq=False)
class _Admitted:
    request: HookRequest
    route: Route
    run_input: Any
    key: str | None = None  # the caller's idempotency key
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)
    queued: bool = False

    @property
    def scope(self) -> str:
        return idempotency_scope(self.route.workflow_id, self.route.workflow.name)


class WebhookIntake:
    """Group commit of webhook runs; ``carry_on(fresh_run, graph)`` goes on with an
    accepted run once it is durable."""

    def __init__(self, engine: Engine, routes: RouteTable,
                 carry_on: Callable[..., None], queue: RunQueue | None = None) -> None:
        self.engine = engine
        self.store: Any = engine.store
        self.routes = routes
        self.carry_on = carry_on  # (fresh run, graph) or, for a queued run, (None, None, id)
        self.queue = queue
        self._queue: list[HookRequest] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.groups = 0  # groups written (for tests and the benchmark)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._committer())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for request in self._queue:
            if not request.answer.done():
                request.answer.set_result((503, {"error": "the server is stopping; nothing "
                                                 "was kept", "retry": True}))
        self._queue.clear()

    async def submit(self, request: HookRequest) -> Answer:
        request.answer = asyncio.get_running_loop().create_future()
        self._queue.append(request)
        self._wake.set()
        return await request.answer

    async def _committer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if batch:
                try:
                    await self._group(batch)
                except Exception:  # a bug of ours must not leave the members unanswered
                    log.exception("webhook group failed")
                    _answer_all(batch, 500, {"error": "internal error; see the server log"})

    async def _group(self, batch: list[HookRequest]) -> None:
        try:
            self.routes.refresh()
        except StoreError as exc:
            _answer_all(batch, 503, _unavailable(exc))
            return
        admitted: list[_Admitted] = []
        for request in batch:
            outcome = self._admit(request)
            if isinstance(outcome, _Admitted):
                admitted.append(outcome)
            else:
                _reply(request, outcome)
        try:
            admitted, repeats = self._known_keys(admitted)
        except StoreError as exc:
            _answer_all([a.request for a in admitted], 503, _unavailable(exc))
            return
        if not admitted:
            _answer_repeats(repeats, {})
            return
        if self.queue is not None:
            room = self.queue.max_runs - self.queue.running
            for item in admitted[max(room, 0):]:
                item.queued = True
        intake = self.store.intake
        keyed = [a for a in admitted if a.key]  # their run ids answer the repeats at the end
        for attempt in (1, 2):
            try:
                await self._record(admitted)
                break
            except StoreError as exc:
                # one transaction: nothing of the group was kept. When members carry keys,
                # another worker may have recorded one of them since they were looked up:
                # those members get that run and the rest are recorded once more
                retry = attempt == 1 and any(a.key for a in admitted)
                if retry:
                    try:
                        admitted, more = self._known_keys(admitted)
                        repeats += more
                    except StoreError:
                        retry = False
                if not retry:
                    log.warning("webhook group of %d refused: %s", len(admitted), exc)
                    _answer_all([a.request for a in admitted + repeats], 503,
                                _unavailable(exc))
                    return
                if not admitted:
                    _answer_repeats(repeats, {(a.scope, a.key): a.run_id for a in keyed})
                    return
        try:
            await asyncio.to_thread(intake.sync)
        except OSError as exc:
            log.error("webhook group of %d: sync failed: %s", len(admitted), exc)
            try:
                intake.discard([a.run_id for a in admitted])
            except StoreError as gone:
                log.error("and its runs could not be removed: %s", gone)
            _answer_all([a.request for a in admitted + repeats], 503, _unavailable(exc))
            return
        self.groups += 1
        for item in admitted:
            _reply(item.request, (202, {"run_id": item.run_id,
                                        "workflow": item.route.workflow.name,
                                        "created": True}))
            if item.queued:
                self.carry_on(None, None, item.run_id)
            else:
                self.carry_on(_snapshot(item), item.route.graph)
        _answer_repeats(repeats, {(a.scope, a.key): a.run_id for a in keyed})

    async def _record(self, admitted: list[_Admitted]) -> None:
        """The group's runs in one transaction (off the loop where the database allows)."""
        intake = self.store.intake
        rows = [_new_run(a) for a in admitted]
        if intake.commits_off_loop:
            await asyncio.to_thread(intake.accept, rows, self.engine.owner,
                                    self.engine.lease_seconds)
        else:
            intake.accept(rows, self.engine.owner, self.engine.lease_seconds)

    def _known_keys(self, admitted: list[_Admitted]) -> tuple[list[_Admitted],
                                                               list[_Admitted]]:
        """Split off the members whose idempotency key their workflow used before (their
        ``run_id`` becomes that run's) or an earlier member of this group uses."""
        fresh: list[_Admitted] = []
        repeats: list[_Admitted] = []
        seen: set[tuple[str, str]] = set()
        for item in admitted:
            if item.key is None:
                fresh.append(item)
                continue
            if (item.scope, item.key) in seen:
                repeats.append(item)  # answered with the earlier member's run
                continue
            existing = self.store.runs.find_run_by_key(item.scope, item.key)
            if existing is not None:
                item.run_id = existing.id
                _reply(item.request, (202, {"run_id": existing.id,
                                            "workflow": item.route.workflow.name,
                                            "created": False}))
                continue
            seen.add((item.scope, item.key))
            fresh.append(item)
        return fresh, repeats

    def _admit(self, request: HookRequest) -> _Admitted | Answer:
        route = self.routes.webhook(request.path)
        if route is None:
            return 404, {"error": f"no workflow listens on /hooks/{request.path}"}
        expected = route.config.get("method") or "POST"
        if request.method != expected:
            return 405, {"error": f"use {expected}"}
        query, headers = request.query, request.headers
        secret = route.config.get("secret")
        if secret:
            given = headers.get("x-flowdesk-secret") or str(query.pop("secret", ""))
            if not hmac.compare_digest(given.encode(), str(secret).encode()):
                return 401, {"error": "wrong or missing secret"}
        query.pop("secret", None)
        headers.pop("x-flowdesk-secret", None)
        parsed, problem = parse_body(request.body, headers.get("content-type", ""))
        if problem:
            return 400, {"error": problem}
        if route.problem is not None:
            return 422, {"error": route.problem}
        try:
            run_input = self.engine.admit(route.workflow, {"body": parsed, "headers": headers,
                                                           "query": query}, checked=True)
        except FlowdeskError as exc:
            return 422, {"error": str(exc)}
        key = headers.get("idempotency-key") or headers.get("x-idempotency-key") or None
        return _Admitted(request, route, run_input, key)


def _new_run(item: _Admitted) -> NewRun:
    route = item.route
    return NewRun(run_id=item.run_id, workflow_name=route.workflow.name,
                  workflow_id=route.workflow_id, workflow_version=route.version,
                  definition=route.definition, step_ids=route.step_ids,
                  input=item.run_input, created_at=item.created_at,
                  idempotency_key=item.key,
                  idempotency_scope=None if item.key is None else item.scope,
                  queued=item.queued)


def _snapshot(item: _Admitted) -> RunSnapshot:
    """The run as just committed, built from memory (what ``get_run`` would read back)."""
    route = item.route
    return RunSnapshot.model_construct(
        id=item.run_id, workflow_name=route.workflow.name, workflow_id=route.workflow_id,
        workflow_version=route.version, status=RunStatus.PENDING, input=item.run_input,
        error=None, created_at=item.created_at, started_at=None, finished_at=None,
        active_seconds=None, idempotency_key=item.key, parent_run_id=None,
        parent_step_id=None, attempt=1, definition={}, steps={})


def _unavailable(exc: Exception) -> dict[str, Any]:
    return {"error": f"could not store the run, nothing was kept: {exc}", "retry": True}


def _reply(request: HookRequest, answer: Answer) -> None:
    # a member whose connection was dropped meanwhile (the server stopping) is not told;
    # its run, if accepted, stands and runs
    if not request.answer.done():
        request.answer.set_result(answer)


def _answer_repeats(repeats: list[_Admitted], runs: dict[tuple[str, str | None], str]) -> None:
    """Members repeating a key an earlier member of their group used: that member's run
    (if it was recorded; answered already otherwise)."""
    for item in repeats:
        run_id = runs.get((item.scope, item.key))
        if run_id is not None:
            _reply(item.request, (202, {"run_id": run_id,
                                        "workflow": item.route.workflow.name,
                                        "created": False}))


def _answer_all(requests: list[HookRequest], status: int, payload: dict[str, Any]) -> None:
    for request in requests:
        _reply(request, (status, dict(payload)))
