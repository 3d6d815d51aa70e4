"""Pinned step outputs of stored workflows, and the latest recorded output of a step.

Contract:
- A pin is a step's output saved beside a stored workflow (``workflow_pins``), keyed by the
  workflow's id, so it follows a rename and goes with a delete. Pins are not part of the
  definition: changing them records no version, and neither a published run nor an export
  sees them. ``set_pins`` replaces all of a workflow's pins (the editor's autosave);
  ``set_pin``/``clear_pins`` change some. An unknown workflow raises ``NotFound``.
- ``last_outputs(name, step_ids)`` gives, per step, the newest recorded output of that step
  in the runs of the workflow (a stored workflow's runs, or the runs from a file of that
  name), with the run id: a step that completed, or failed with ``continue_on_error`` and so
  recorded an output. ``last_input(name)`` is the input of its newest run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from flowdesk.model.errors import NotFound
from flowdesk.store.database import guard
from flowdesk.store.tables import runs, step_runs, workflow_pins, workflows
from flowdesk.store.workflows import dumps

__all__ = ["PinRepository"]


class PinRepository:
    def __init__(self, url: str, read: Callable[[], Any], write: Callable[[], Any]) -> None:
        self._url = url
        self._read = read
        self._write = write

    def _workflow_id(self, conn: sa.Connection, name: str) -> int:
        wf_id = conn.execute(sa.select(workflows.c.id).where(workflows.c.name == name)).scalar()
        if wf_id is None:
            raise NotFound(f"no workflow named '{name}' in {self._url}")
        return int(wf_id)

    def get_pins(self, name: str) -> dict[str, Any]:
        """The pinned outputs of ``name``, by step id."""
        with guard(self._url), self._read() as conn:
            wf_id = self._workflow_id(conn, name)
            rows = conn.execute(
                sa.select(workflow_pins.c.step_id, workflow_pins.c.output)
                .where(workflow_pins.c.workflow_id == wf_id)
                .order_by(workflow_pins.c.step_id)).all()
        return {row.step_id: json.loads(row.output) for row in rows}

    def set_pins(self, name: str, pins: dict[str, Any]) -> None:
        """Make ``pins`` all of ``name``'s pins (a pin whose output is unchanged keeps its
        time)."""
        now = time.time()
        with guard(self._url), self._write() as conn:
            wf_id = self._workflow_id(conn, name)
            old = {row.step_id: row.output for row in conn.execute(
                sa.select(workflow_pins.c.step_id, workflow_pins.c.output)
                .where(workflow_pins.c.workflow_id == wf_id))}
            new = {step_id: dumps(output) for step_id, output in pins.items()}
            gone = [s for s in old if s not in new or old[s] != new[s]]
            if gone:
                conn.execute(workflow_pins.delete().where(
                    workflow_pins.c.workflow_id == wf_id, workflow_pins.c.step_id.in_(gone)))
            added = [{"workflow_id": wf_id, "step_id": s, "output": text, "pinned_at": now}
                     for s, text in new.items() if old.get(s) != text]
            if added:
                conn.execute(workflow_pins.insert(), added)

    def set_pin(self, name: str, step_id: str, output: Any) -> None:
        pins = self.get_pins(name)
        pins[step_id] = output
        self.set_pins(name, pins)

    def clear_pins(self, name: str, step_ids: Iterable[str] | None = None) -> int:
        """Remove the pins of ``step_ids`` (all with None); returns how many there were."""
        with guard(self._url), self._write() as conn:
            wf_id = self._workflow_id(conn, name)
            query = workflow_pins.delete().where(workflow_pins.c.workflow_id == wf_id)
            if step_ids is not None:
                query = query.where(workflow_pins.c.step_id.in_(list(step_ids)))
            return int(conn.execute(query).rowcount or 0)

    @staticmethod
    def _runs_of(name: str) -> sa.ColumnElement[bool]:
        wf_id = sa.select(workflows.c.id).where(workflows.c.name == name).scalar_subquery()
        return sa.or_(runs.c.workflow_id == wf_id,
                      sa.and_(runs.c.workflow_id.is_(None), runs.c.workflow_name == name))

    def last_outputs(self, name: str, step_ids: Iterable[str]) -> dict[str, tuple[str, Any]]:
        """``{step_id: (run_id, output)}``: each step's newest recorded output in the runs
        of ``name`` (steps never recorded are left out)."""
        wanted = list(step_ids)
        if not wanted:
            return {}
        query = (
            sa.select(step_runs.c.step_id, step_runs.c.output, runs.c.id)
            .join(runs, runs.c.id == step_runs.c.run_id)
            .where(self._runs_of(name), runs.c.parent_run_id.is_(None),
                   step_runs.c.step_id.in_(wanted),
                   sa.or_(step_runs.c.status == "completed",
                          sa.and_(step_runs.c.status == "failed",
                                  step_runs.c.output.is_not(None))))
            .order_by(runs.c.created_at.desc()))
        found: dict[str, tuple[str, Any]] = {}
        with guard(self._url), self._read() as conn:
            for row in conn.execute(query):
                if row.step_id not in found:
                    found[row.step_id] = (row.id, json.loads(row.output)
                                          if row.output is not None else None)
                if len(found) == len(wanted):
                    break
        return found

    def last_input(self, name: str) -> tuple[str, Any] | None:
        """``(run_id, input)`` of the newest run of ``name``, or None."""
        with guard(self._url), self._read() as conn:
            row = conn.execute(
                sa.select(runs.c.id, runs.c.input)
                .where(self._runs_of(name), runs.c.parent_run_id.is_(None))
                .order_by(runs.c.created_at.desc()).limit(1)).first()
        if row is None:
            return None
        return row.id, json.loads(row.input) if row.input is not None else None
