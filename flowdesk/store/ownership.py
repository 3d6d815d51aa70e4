"""Run ownership: one process at a time executes a run (an atomic claim with a lease).

Contract: ``claim_run`` is a compare-and-set on ``owner``/``lease_until`` inside one write
transaction: it takes a free run, renews our own claim, or takes a run whose lease ran out or
whose owner process is known to be gone (same host, its pid no longer alive or a zombie).
``resumable_runs`` lists the runs a process should carry on now. ``claim_queued`` takes the
oldest queued runs (pending, owned by nobody, not a sub-workflow's child) for a worker:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers claiming together take different runs
without waiting for each other. A cancel request is a flag the owner polls.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import sqlalchemy as sa

from flowdesk.model.errors import NotFound
from flowdesk.model.status import RunStatus
from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.decisions import DecisionRepository
from flowdesk.store.tables import runs

__all__ = ["LeaseRepository", "owner_is_dead"]


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` (``host:pid:tag``) names a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


class LeaseRepository:
    def __init__(self, db: Database, waits: DecisionRepository) -> None:
        self._db = db
        self._waits = waits

    def claim_run(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        """Atomically take (or renew) ownership of a run. False if a live owner holds it."""
        now = time.time()
        with guard(self._db.url), self._db.write() as conn:
            row = conn.execute(
                # locked to the commit on PostgreSQL: a second worker waits, then sees the
                # new owner (SQLite's write transaction is already exclusive)
                sa.select(runs.c.owner, runs.c.lease_until).where(runs.c.id == run_id)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"no run with id '{run_id}'")
            current, lease_until = row
            free = (
                current is None
                or current == owner
                or (lease_until or 0) < now
                or owner_is_dead(current)
            )
            if not free:
                return False
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                owner=owner, lease_until=now + lease_seconds))
        return True

    def claim_queued(self, owner: str, lease_seconds: float, limit: int = 1) -> list[str]:
        """Take up to ``limit`` queued runs, oldest first; their ids (none: nothing queued,
        or every queued run is being taken by another worker right now)."""
        queued = sa.and_(runs.c.status == RunStatus.PENDING.value, runs.c.owner.is_(None),
                         runs.c.parent_run_id.is_(None))
        with guard(self._db.url), self._db.read() as conn:  # a look first, without a lock
            if conn.execute(sa.select(runs.c.id).where(queued).limit(1)).first() is None:
                return []
        with guard(self._db.url), self._db.write() as conn:
            ids = list(conn.execute(
                sa.select(runs.c.id).where(queued).order_by(runs.c.created_at).limit(limit)
                .with_for_update(skip_locked=True)).scalars())
            if ids:
                conn.execute(runs.update().where(runs.c.id.in_(ids)).values(
                    owner=owner, lease_until=time.time() + lease_seconds))
        return ids

    def is_owned(self, run_id: str) -> bool:
        """True when a live process holds the run (its lease is valid and it is not dead)."""
        with guard(self._db.url), self._db.read() as conn:
            row = conn.execute(
                sa.select(runs.c.owner, runs.c.lease_until).where(runs.c.id == run_id)
            ).first()
        if row is None or row.owner is None:
            return False
        return (row.lease_until or 0) >= time.time() and not owner_is_dead(row.owner)

    def release_run(self, run_id: str, owner: str) -> None:
        with guard(self._db.url), self._db.write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.owner == owner)
                         .values(owner=None, lease_until=None))

    def request_cancel(self, run_id: str, reason: str) -> None:
        with guard(self._db.url), self._db.write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id)
                         .values(cancel_requested=reason))

    def cancel_requested(self, run_id: str) -> str | None:
        with guard(self._db.url), self._db.read() as conn:
            value = conn.execute(
                sa.select(runs.c.cancel_requested).where(runs.c.id == run_id)
            ).scalar()
        return None if value is None else str(value)

    def resumable_runs(self, queued: bool = True) -> list[str]:
        """Runs that a process should carry on now: ``running``/``pending`` runs whose owner
        is gone (dead pid on this host, or lease run out), and ``paused`` runs with a
        decision, an event or a timeout to act on. ``queued=False`` leaves out pending runs
        nobody ever owned (a worker takes those with ``claim_queued``)."""
        now = time.time()
        with guard(self._db.url), self._db.read() as conn:
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
                if not queued and row.owner is None:
                    continue
                if row.created_at < now - 5:  # its starter died before it began
                    out.append(row.id)
            else:
                paused.append(row.id)
        if paused:
            for step in self._waits.waiting_steps():
                if step["run_id"] in paused and step["run_id"] not in out and (
                    "decision" in step["state"] or "event" in step["state"]
                    or (step.get("timeout_at") is not None and step["timeout_at"] <= now)
                ):
                    out.append(step["run_id"])
        return out
