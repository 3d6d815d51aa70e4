"""The HTTP API of ``flowdesk serve``: drive flowdesk from other tools and scripts. JSON in and
out, versioned paths, a bearer token on every request (``flowdesk tokens create NAME``).

    GET  /api/v1/workflows                          the stored workflows
    POST /api/v1/workflows/{name}/runs              {"input", "idempotency_key"} → 202 {"run_id"}
                                                    (answered once the run is synced to disk)
    GET  /api/v1/runs/{id}                          the whole run (see ``run_document``)
    GET  /api/v1/approvals                          approvals waiting for a decision
    POST /api/v1/runs/{id}/steps/{step}/approve     {"comment", "data"} → 200; 409 if decided
    POST /api/v1/runs/{id}/steps/{step}/reject      likewise
    POST /api/v1/events/{name}                      {"key", "data"} → 200 {"woke": [run ids]}
    POST /api/v1/runs/{id}/cancel                   → 202
    POST /api/v1/runs/{id}/retry                    {"from_step", "definition"} → 202

Errors are ``{"error": message}`` with 400 (bad JSON or fields), 401 (no or wrong token), 404,
405, 409 (a decision already made, a run in the wrong state), 422 (input that does not fit the
workflow's schema), 503 (the database could not store it; nothing was kept). The server
applies the same request limits as its webhooks (body size 413, time-outs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from flowdesk.engine import Engine
from flowdesk.model.errors import (
    DecisionError,
    FlowdeskError,
    InvalidInput,
    NotFound,
    StoreError,
    WorkflowInvalid,
)
from flowdesk.model.run import RunSnapshot
from flowdesk.tokens import verify_token

if TYPE_CHECKING:
    from flowdesk.run_queue import RunQueue

__all__ = ["ApiHandler", "run_document"]

log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]
Spawn = Callable[[Coroutine[Any, Any, Any]], object]


def run_document(run: RunSnapshot) -> dict[str, Any]:
    """Everything about a run (``RunSnapshot.to_document``, as ``flowdesk show --json``)."""
    return run.to_document()


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Refused(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Refused(400, "the body must be a JSON object")
    return value


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ApiHandler:
    """Answers /api/v1 requests with the engine and its store; ``carry_on(run_id)`` is how
    the server goes on with a run after starting it, a decision or an event."""

    def __init__(self, engine: Engine, spawn: Spawn,
                 carry_on: Callable[[str], Coroutine[Any, Any, Any]],
                 queue: RunQueue | None = None) -> None:
        self.engine = engine
        self.store: Any = engine.store
        self.spawn = spawn
        self.carry_on = carry_on
        self.queue = queue  # the server's: a new run is executed here if there is room

    async def handle(self, method: str, path: str, headers: dict[str, str],
                     body: bytes) -> Answer:
        try:
            who = self._authorise(headers)
            return await self._dispatch(method, [unquote(p) for p in
                                                 path.strip("/").split("/")[1:]], body, who)
        except _Refused as exc:
            return exc.status, {"error": str(exc)}
        except NotFound as exc:
            return 404, {"error": str(exc)}
        except DecisionError as exc:
            return 409, {"error": str(exc)}
        except (InvalidInput, WorkflowInvalid) as exc:
            return 422, {"error": str(exc)}
        except StoreError as exc:
            log.warning("api %s %s refused: %s", method, path, exc)
            return 503, {"error": f"the database could not do it, nothing was kept: {exc}",
                         "retry": True}
        except FlowdeskError as exc:
            return 409, {"error": str(exc)}

    def _authorise(self, headers: dict[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        name = verify_token(self.store, token.strip()) if scheme.lower() == "bearer" else None
        if name is None:
            raise _Refused(401, "a valid API token is needed: `Authorization: Bearer TOKEN` "
                                "(create one with `flowdesk tokens create NAME`)")
        return name

    async def _dispatch(self, method: str, parts: list[str], raw: bytes, who: str) -> Answer:
        match parts:
            case ["v1", "workflows"]:
                self._method(method, "GET")
                return 200, {"workflows": [w.model_dump(mode="json")
                                           for w in self.store.list_workflows()]}
            case ["v1", "workflows", name, "runs"]:
                self._method(method, "POST")
                return await self._start(name, _body(raw))
            case ["v1", "runs", run_id]:
                self._method(method, "GET")
                run_id = self.store.resolve_run_id(run_id)
                return 200, run_document(self.store.get_run(run_id))
            case ["v1", "approvals"]:
                self._method(method, "GET")
                return 200, {"approvals": [dict(w) for w in
                                           self.store.waiting_steps(kind="approval")]}
            case ["v1", "runs", run_id, "steps", step_id, ("approve" | "reject") as verb]:
                self._method(method, "POST")
                return self._decide(self.store.resolve_run_id(run_id), step_id,
                                    verb == "approve", _body(raw), who)
            case ["v1", "events", name]:
                self._method(method, "POST")
                data = _body(raw)
                woke = self.engine.send_event(name, data.get("key"), data.get("data"))
                for run_id in woke:
                    self._go_on(run_id)
                return 200, {"woke": woke}
            case ["v1", "runs", run_id, "cancel"]:
                self._method(method, "POST")
                run_id = self.store.resolve_run_id(run_id)
                reason = str(_body(raw).get("reason") or f"cancelled through the API by {who}")
                run = await self.engine.cancel(run_id, reason)
                return 202, {"run_id": run_id, "status": run.status.value}
            case ["v1", "runs", run_id, "retry"]:
                self._method(method, "POST")
                return self._retry(self.store.resolve_run_id(run_id), _body(raw))
        raise _Refused(404, "no such API path; see the README's HTTP API section")

    @staticmethod
    def _method(given: str, wanted: str) -> None:
        if given != wanted:
            raise _Refused(405, f"use {wanted}")

    def _go_on(self, run_id: str) -> None:
        if not self.engine.is_active(run_id):
            self.spawn(self.carry_on(run_id))

    async def _start(self, name: str, data: dict[str, Any]) -> Answer:
        workflow, version = self.store.get_workflow(name)
        key = data.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise _Refused(400, "idempotency_key must be a string")
        here = self.queue is None or self.queue.has_room()
        run, created = self.engine.start(workflow, data.get("input"), workflow_version=version,
                                         idempotency_key=key, queue=not here)
        try:
            # a 202 is a promise: the run is synced to disk before it is answered
            await asyncio.to_thread(self.store.intake.sync)
        except OSError as exc:
            log.error("run %s could not be synced: %s", run.id[:8], exc)
            if created:
                self.store.intake.discard([run.id])
            raise StoreError(f"the run could not be made durable ({exc})") from None
        if created:
            if self.queue is None:
                self._go_on(run.id)
            elif here:
                self.queue.run_here(run.id)
            else:
                self.queue.wake()  # this worker is full: any worker of the database takes it
        return 202, {"run_id": run.id, "created": created, "status": run.status.value}

    def _decide(self, run_id: str, step_id: str, approved: bool, data: dict[str, Any],
                who: str) -> Answer:
        comment = data.get("comment") or ""
        if not isinstance(comment, str):
            raise _Refused(400, "comment must be a string")
        self.engine.decide(run_id, step_id, approved=approved, comment=comment,
                           data=data.get("data"), decided_by=f"api:{who}")
        self._go_on(run_id)
        return 200, {"run_id": run_id, "step_id": step_id, "approved": approved}

    def _retry(self, run_id: str, data: dict[str, Any]) -> Answer:
        definition = data.get("definition", "current")
        if definition not in ("current", "original"):
            raise _Refused(400, 'definition must be "current" or "original"')
        run = self.store.get_run(run_id)
        if not run.status.is_terminal:
            raise _Refused(409, f"run {run_id[:8]} is {run.status.value}; only a finished "
                                "run can be retried")
        from_step = data.get("from_step")
        self.spawn(self.engine.retry(run_id, from_step=from_step, definition=definition))
        return 202, {"run_id": run_id}
