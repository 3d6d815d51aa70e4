"""Store operations for the human in the loop and for durability: decisions on approvals,
external events, finding resumable runs, retention (pruning) and settings.

Every check-and-change happens inside one write transaction (``BEGIN IMMEDIATE``), so two
processes cannot both decide the same approval or both take the same stored event.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from flowdesk.model.errors import DecisionError, NotFound
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.store.database import guard
from flowdesk.store.tables import external_events, run_events, runs, settings, step_runs

__all__ = ["ControlMixin", "WaitingStep"]

_DEFAULT_EVENT_KEEP_SECONDS = 7 * 24 * 3600


class WaitingStep(dict[str, Any]):
    """A waiting step: run_id, workflow, step_id, kind, since, timeout_at, title, ..."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


class ControlMixin:
    """Mixed into ``Store``; uses its connection helpers."""

    url: str
    engine: sa.Engine

    def _read(self) -> Any:
        raise NotImplementedError

    def _write(self) -> Any:
        raise NotImplementedError

    # -- waiting steps -----------------------------------------------------------------------
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
        with guard(self.url), self._read() as conn:
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
        with guard(self.url), self._write() as conn:
            row = conn.execute(
                sa.select(step_runs.c.status, step_runs.c.state)
                .where(step_runs.c.run_id == run_id, step_runs.c.step_id == step_id)
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
                raise DecisionError(
                    f"step '{step_id}' of run {run_id[:8]} was already "
                    f"{'approved' if state['decision'].get('approved') else 'rejected'}"
                )
            state["decision"] = decision
            conn.execute(step_runs.update().where(
                step_runs.c.run_id == run_id, step_runs.c.step_id == step_id,
            ).values(state=_dumps(state)))

    def deliver_event(self, name: str, key: str | None, data: Any,
                      keep_seconds: float | None = None) -> list[tuple[str, str]]:
        """Hand an event to every step waiting for it; keep it if none is waiting.
        Returns the (run_id, step_id) pairs that received it."""
        now = time.time()
        event = {"event_name": name, "key": key, "data": data, "received_at": now}
        delivered = []
        with guard(self.url), self._write() as conn:
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
                ).values(state=_dumps(state)))
                delivered.append((row.run_id, row.step_id))
            if not delivered:
                keep = keep_seconds if keep_seconds is not None else float(
                    self.get_setting("events.keep_seconds", _DEFAULT_EVENT_KEEP_SECONDS))
                conn.execute(external_events.insert().values(
                    name=name, key=key, data=_dumps(data), created_at=now,
                    expires_at=now + keep))
        return delivered

    def consume_external_event(self, name: str, key: str | None, run_id: str,
                               step_id: str) -> dict[str, Any] | None:
        """Take the oldest kept event with that name (and key, when given) for a step."""
        now = time.time()
        with guard(self.url), self._write() as conn:
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

    # -- resumable runs ----------------------------------------------------------------------
    def resumable_runs(self) -> list[str]:
        """Runs that a process should carry on now: ``running``/``pending`` runs whose owner
        is gone (dead pid on this host, or lease run out), and ``paused`` runs with a
        decision, an event or a timeout to act on."""
        from flowdesk.store.repository import owner_is_dead

        now = time.time()
        with guard(self.url), self._read() as conn:
            rows = conn.execute(
                sa.select(runs.c.id, runs.c.status, runs.c.owner, runs.c.lease_until,
                          runs.c.created_at)
                .where(runs.c.status.in_([RunStatus.RUNNING.value, RunStatus.PAUSED.value,
                                          RunStatus.PENDING.value]))
                .order_by(runs.c.created_at)
            ).all()
        out = []
        paused = []
        for row in rows:
            owned = row.owner is not None and (row.lease_until or 0) >= now \
                and not owner_is_dead(row.owner)
            if owned:
                continue
            if row.status == RunStatus.RUNNING.value:
                out.append(row.id)
            elif row.status == RunStatus.PENDING.value:
                if row.created_at < now - 5:  # its starter died before it began
                    out.append(row.id)
            else:
                paused.append(row.id)
        if paused:
            for step in self.waiting_steps():
                if step["run_id"] in paused and step["run_id"] not in out and (
                    "decision" in step["state"] or "event" in step["state"]
                    or (step.get("timeout_at") is not None and step["timeout_at"] <= now)
                ):
                    out.append(step["run_id"])
        return out

    # -- retention ---------------------------------------------------------------------------
    def prune_runs(self, older_than: float, batch: int = 500) -> int:
        """Delete finished runs (and their steps and events) that ended before
        ``older_than`` (epoch seconds), in batches; then checkpoint the WAL."""
        total = 0
        finished = [RunStatus.COMPLETED.value, RunStatus.FAILED.value,
                    RunStatus.CANCELLED.value]
        while True:
            with guard(self.url), self._write() as conn:
                ids = conn.execute(
                    sa.select(runs.c.id).where(
                        runs.c.status.in_(finished),
                        sa.func.coalesce(runs.c.finished_at, runs.c.created_at) < older_than,
                        runs.c.parent_run_id.is_(None),
                    ).limit(batch)
                ).scalars().all()
                if not ids:
                    break
                # children, events and steps go with their run (ON DELETE CASCADE)
                conn.execute(run_events.delete().where(run_events.c.run_id.in_(ids)))
                conn.execute(runs.delete().where(runs.c.id.in_(ids)))
                total += len(ids)
        with guard(self.url), self._write() as conn:
            conn.execute(external_events.delete().where(
                sa.or_(external_events.c.expires_at < time.time(),
                       external_events.c.consumed_at < older_than)))
        self.checkpoint()
        return total

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file so it does not keep growing."""
        if not self.url.startswith("sqlite"):
            return
        with guard(self.url), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- settings ----------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        with guard(self.url), self._read() as conn:
            value = conn.execute(
                sa.select(settings.c.value).where(settings.c.key == key)
            ).scalar()
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> None:
        with guard(self.url), self._write() as conn:
            conn.execute(settings.delete().where(settings.c.key == key))
            conn.execute(settings.insert().values(key=key, value=_dumps(value)))

    def all_settings(self) -> dict[str, Any]:
        with guard(self.url), self._read() as conn:
            rows = conn.execute(sa.select(settings)).all()
        return {r.key: json.loads(r.value) for r in rows}
