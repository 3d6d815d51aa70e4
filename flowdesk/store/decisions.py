"""Decisions on approvals and external events for waiting steps.

Contract: every check-and-change happens inside one write transaction (``BEGIN IMMEDIATE``),
so two processes cannot both decide the same approval or both take the same kept event. A
decision on a step that is not waiting for one, or a second decision, is a
``DecisionError`` that says what the step is doing. An event nobody waits for is kept
(``events.keep_seconds``, a week by default) for a waiter that comes later.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from flowdesk.model.errors import DecisionError, NotFound
from flowdesk.model.status import StepStatus
from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.feed import notify_run
from flowdesk.store.settings import SettingsRepository
from flowdesk.store.tables import external_events, runs, step_runs
from flowdesk.store.workflows import dumps

__all__ = ["DecisionRepository", "WaitingStep"]

_DEFAULT_EVENT_KEEP_SECONDS = 7 * 24 * 3600


class WaitingStep(dict[str, Any]):
    """A waiting step: run_id, workflow, step_id, kind, since, timeout_at, title, ..."""


class DecisionRepository:
    def __init__(self, db: Database, settings: SettingsRepository) -> None:
        self._db = db
        self._settings = settings

    def waiting_steps(self, run_id: str | None = None,
                      kind: str | None = None) -> list[WaitingStep]:
        query = (
            sa.select(step_runs.c.run_id, step_runs.c.step_id, step_runs.c.state,
                      runs.c.workflow_name, runs.c.status)
            .join(runs, runs.c.id == step_runs.c.run_id)
            .where(step_runs.c.status == StepStatus.WAITING.value)
            .order_by(runs.c.created_at)
        )
        if run_id is not None:
            query = query.where(step_runs.c.run_id == run_id)
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            state = json.loads(row.state) if row.state else {}
            wait = state.get("wait") or {}
            if kind is not None and wait.get("kind") != kind:
                continue
            out.append(WaitingStep(
                run_id=row.run_id, step_id=row.step_id, workflow=row.workflow_name,
                run_status=row.status, state=state, **wait,
            ))
        return out

    def record_decision(self, run_id: str, step_id: str,
                        decision: dict[str, Any]) -> None:
        """Store an approval decision on a waiting approval step, once."""
        with guard(self._db.url), self._db.write() as conn:
            row = conn.execute(
                sa.select(step_runs.c.status, step_runs.c.state)
                .where(step_runs.c.run_id == run_id, step_runs.c.step_id == step_id)
                # the row stays locked to the commit: two desks deciding at once are served
                # one after the other, and the second sees the first's decision (SQLite's
                # write transaction is already exclusive)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"run {run_id[:8]} has no step '{step_id}'")
            state = json.loads(row.state) if row.state else {}
            kind = (state.get("wait") or {}).get("kind")
            if row.status != StepStatus.WAITING.value or kind != "approval":
                detail = f", waiting for an {kind}" if kind not in (None, "approval") else ""
                raise DecisionError(
                    f"step '{step_id}' of run {run_id[:8]} is not waiting for an approval "
                    f"(it is {row.status}{detail})"
                )
            if "decision" in state:
                earlier = state["decision"]
                by = f" by {earlier['decided_by']}" if earlier.get("decided_by") else ""
                raise DecisionError(
                    f"step '{step_id}' of run {run_id[:8]} was already "
                    f"{'approved' if earlier.get('approved') else 'rejected'}{by}"
                )
            state["decision"] = decision
            conn.execute(step_runs.update().where(
                step_runs.c.run_id == run_id, step_runs.c.step_id == step_id,
            ).values(state=dumps(state)))
            notify_run(conn, run_id)  # the other desks' inboxes drop it

    def deliver_event(self, name: str, key: str | None, data: Any,
                      keep_seconds: float | None = None) -> list[tuple[str, str]]:
        """Hand an event to every step waiting for it; keep it if none is waiting.
        Returns the (run_id, step_id) pairs that received it."""
        now = time.time()
        event = {"event_name": name, "key": key, "data": data, "received_at": now}
        delivered = []
        with guard(self._db.url), self._db.write() as conn:
            rows = conn.execute(
                sa.select(step_runs.c.run_id, step_runs.c.step_id, step_runs.c.state)
                .where(step_runs.c.status == StepStatus.WAITING.value)
            ).all()
            for row in rows:
                state = json.loads(row.state) if row.state else {}
                wait = state.get("wait") or {}
                if (wait.get("kind") != "event" or wait.get("event_name") != name
                        or "event" in state or state.get("timed_out")):
                    continue
                if wait.get("correlation_key") not in (None, "") and \
                        wait.get("correlation_key") != key:
                    continue
                state["event"] = event
                conn.execute(step_runs.update().where(
                    step_runs.c.run_id == row.run_id, step_runs.c.step_id == row.step_id,
                ).values(state=dumps(state)))
                delivered.append((row.run_id, row.step_id))
            if not delivered:
                keep = keep_seconds if keep_seconds is not None else float(
                    self._settings.get_setting("events.keep_seconds", _DEFAULT_EVENT_KEEP_SECONDS))
                conn.execute(external_events.insert().values(
                    name=name, key=key, data=dumps(data), created_at=now,
                    expires_at=now + keep))
        return delivered

    def consume_external_event(self, name: str, key: str | None, run_id: str,
                               step_id: str) -> dict[str, Any] | None:
        """Take the oldest kept event with that name (and key, when given) for a step."""
        now = time.time()
        with guard(self._db.url), self._db.write() as conn:
            query = (
                sa.select(external_events)
                .where(external_events.c.name == name,
                       external_events.c.consumed_at.is_(None),
                       sa.or_(external_events.c.expires_at.is_(None),
                              external_events.c.expires_at > now))
                .order_by(external_events.c.id).limit(1)
            )
            if key not in (None, ""):
                query = query.where(external_events.c.key == key)
            row = conn.execute(query).first()
            if row is None:
                return None
            conn.execute(external_events.update().where(external_events.c.id == row.id).values(
                consumed_at=now, consumed_by_run=run_id, consumed_by_step=step_id))
        return {"event_name": row.name, "key": row.key,
                "data": json.loads(row.data) if row.data else None,
                "received_at": row.created_at}
