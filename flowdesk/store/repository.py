"""The ``Store``: one face over the repositories every read and write goes through.

Contract:
- ``Store(url)`` opens one ``Database`` and composes the repositories over it:
  ``workflows`` (saved workflows and their versions), ``runs`` (runs, steps, events and the
  engine's tick writes), ``intake`` (runs accepted in groups, durably: webhooks), ``leases``
  (run ownership and cancel requests), ``decisions`` (approvals and external events for
  waiting steps), ``settings`` and ``pins`` (pinned step outputs, and the latest recorded
  output of a step). Each method of the
  face hands over to one of them; callers that need one aggregate may use it directly.
- ``Store`` satisfies the engine's ``flowdesk.engine.persistence.RunStore`` protocol
  (checked by mypy below); ``Store.db`` is the SQLAlchemy engine (not the workflow engine).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from flowdesk.model.events import RunEvent
from flowdesk.model.run import RunSnapshot, StepRunSnapshot, WorkflowInfo
from flowdesk.model.status import RunStatus
from flowdesk.model.workflow import Workflow
from flowdesk.store.connection import Database
from flowdesk.store.database import database_url
from flowdesk.store.decisions import DecisionRepository, WaitingStep
from flowdesk.store.feed import CHANNEL, QUEUE_CHANNEL, RunFeed
from flowdesk.store.intake import RunIntake
from flowdesk.store.ownership import LeaseRepository, owner_is_dead
from flowdesk.store.pins import PinRepository
from flowdesk.store.runs import RunRepository
from flowdesk.store.settings import SettingsRepository
from flowdesk.store.versions import VersionRepository
from flowdesk.store.workflows import WorkflowRepository

if TYPE_CHECKING:
    from flowdesk.engine.persistence import RunStore

__all__ = ["Store", "WaitingStep", "open_store", "owner_is_dead"]


class Store:
    def __init__(self, url: str, *, busy_timeout: float = 10.0) -> None:
        self.url = url
        self.database = Database(url, busy_timeout=busy_timeout)
        self.db: sa.Engine = self.database.db
        self.workflows = WorkflowRepository(self.database)
        self.runs = RunRepository(self.database, self.workflows)
        self.settings = SettingsRepository(self.database)
        self.decisions = DecisionRepository(self.database, self.settings)
        self.leases = LeaseRepository(self.database, self.decisions)
        self.versions = VersionRepository(url, self.database.read, self.database.write)
        self.pins = PinRepository(url, self.database.read, self.database.write)
        self.intake = RunIntake(self.database)

    def run_feed(self, *, queued: bool = False) -> RunFeed:
        """A feed of the runs changed by any process, or (``queued``) of the runs queued
        for the workers (flowdesk.store.feed)."""
        return RunFeed(self.database, QUEUE_CHANNEL if queued else CHANNEL)

    def close(self) -> None:
        self.intake.close()
        self.runs.close()
        self.database.close()

    def checkpoint(self) -> None:
        self.database.checkpoint()

    # -- workflows ---------------------------------------------------------------------------
    def save_workflow(self, workflow: Workflow, *, new_version: bool = False) -> int:
        """``new_version`` publishes (a new numbered version unless the content is
        unchanged); without it only the draft is written (the editor's autosave)."""
        if new_version:
            return self.versions.publish(workflow)[0]
        return self.workflows.save_workflow(workflow)

    def get_workflow(self, name: str) -> tuple[Workflow, int]:
        """The published version of ``name`` (what runs by name use) and its number."""
        return self.versions.published(name)

    def get_draft(self, name: str) -> tuple[Workflow, int]:
        """The draft of ``name`` (what the editor autosaves) and the published number."""
        return self.versions.draft(name)

    def get_workflow_version(self, name: str, version: int) -> Workflow:
        return self.workflows.get_workflow_version(name, version)

    def has_workflow(self, name: str) -> bool:
        return self.workflows.has_workflow(name)

    def list_workflows(self) -> list[WorkflowInfo]:
        return self.workflows.list_workflows()

    def workflow_id(self, name: str) -> int | None:
        return self.workflows.workflow_id(name)

    def get_workflow_by_id(self, workflow_id: int) -> tuple[Workflow, int]:
        return self.workflows.get_workflow_by_id(workflow_id)

    def delete_workflow(self, name: str) -> None:
        self.workflows.delete_workflow(name)

    def rename_workflow(self, old: str, new: str) -> None:
        self.workflows.rename_workflow(old, new)

    # -- pins (test a step with pinned upstream outputs) ------------------------------------
    def get_pins(self, name: str) -> dict[str, Any]:
        return self.pins.get_pins(name)

    def set_pins(self, name: str, pins: dict[str, Any]) -> None:
        self.pins.set_pins(name, pins)

    def last_outputs(self, name: str, step_ids: Iterable[str]) -> dict[str, tuple[str, Any]]:
        return self.pins.last_outputs(name, step_ids)

    def last_input(self, name: str) -> tuple[str, Any] | None:
        return self.pins.last_input(name)

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        workflow: Workflow,
        input: Any,
        *,
        workflow_version: int | None = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
        parent_step_id: str | None = None,
        owner: str | None = None,
        lease_until: float | None = None,
    ) -> tuple[RunSnapshot, bool]:
        return self.runs.create_run(
            workflow, input, workflow_version=workflow_version,
            idempotency_key=idempotency_key, parent_run_id=parent_run_id,
            parent_step_id=parent_step_id, owner=owner, lease_until=lease_until)

    def workflow_of_run(self, run_id: str) -> tuple[Workflow, int] | None:
        return self.runs.workflow_of_run(run_id)

    def replace_run_definition(self, run_id: str, workflow: Workflow,
                               version: int | None) -> None:
        self.runs.replace_run_definition(run_id, workflow, version)

    def find_run_by_key(self, scope: str, key: str) -> RunSnapshot | None:
        return self.runs.find_run_by_key(scope, key)

    def resolve_run_id(self, prefix: str) -> str:
        return self.runs.resolve_run_id(prefix)

    def get_run(self, run_id: str, *, steps: bool = True) -> RunSnapshot:
        return self.runs.get_run(run_id, steps=steps)

    def get_step_run(self, run_id: str, step_id: str) -> StepRunSnapshot | None:
        return self.runs.get_step_run(run_id, step_id)

    def run_status(self, run_id: str) -> RunStatus:
        return self.runs.run_status(run_id)

    def list_runs(
        self,
        *,
        workflow: str | None = None,
        status: Iterable[str] | None = None,
        limit: int | None = 50,
        parent_run_id: str | None = None,
    ) -> list[RunSnapshot]:
        return self.runs.list_runs(workflow=workflow, status=status, limit=limit,
                                   parent_run_id=parent_run_id)

    def last_seq(self, run_id: str) -> int:
        return self.runs.last_seq(run_id)

    def get_events(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        return self.runs.get_events(run_id, after_seq)

    def write(self, run_id: str, run_fields: dict[str, Any],
              step_fields: dict[str, dict[str, Any]], events: list[RunEvent]) -> None:
        self.runs.write(run_id, run_fields, step_fields, events)

    def write_many(self, ticks: list[tuple[str, dict[str, Any], dict[str, dict[str, Any]],
                                           list[RunEvent]]]) -> None:
        self.runs.write_many(ticks)

    def prune_runs(self, older_than: float, batch: int = 500) -> int:
        return self.runs.prune_runs(older_than, batch)

    # -- ownership ---------------------------------------------------------------------------
    def claim_run(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        return self.leases.claim_run(run_id, owner, lease_seconds)

    def is_owned(self, run_id: str) -> bool:
        return self.leases.is_owned(run_id)

    def release_run(self, run_id: str, owner: str) -> None:
        self.leases.release_run(run_id, owner)

    def request_cancel(self, run_id: str, reason: str) -> None:
        self.leases.request_cancel(run_id, reason)

    def cancel_requested(self, run_id: str) -> str | None:
        return self.leases.cancel_requested(run_id)

    def resumable_runs(self, queued: bool = True) -> list[str]:
        return self.leases.resumable_runs(queued)

    def claim_queued(self, owner: str, lease_seconds: float, limit: int = 1) -> list[str]:
        return self.leases.claim_queued(owner, lease_seconds, limit)

    # -- decisions and events ----------------------------------------------------------------
    def waiting_steps(self, run_id: str | None = None,
                      kind: str | None = None) -> list[WaitingStep]:
        return self.decisions.waiting_steps(run_id, kind)

    def record_decision(self, run_id: str, step_id: str, decision: dict[str, Any]) -> None:
        self.decisions.record_decision(run_id, step_id, decision)

    def deliver_event(self, name: str, key: str | None, data: Any,
                      keep_seconds: float | None = None) -> list[tuple[str, str]]:
        return self.decisions.deliver_event(name, key, data, keep_seconds)

    def consume_external_event(self, name: str, key: str | None, run_id: str,
                               step_id: str) -> dict[str, Any] | None:
        return self.decisions.consume_external_event(name, key, run_id, step_id)

    # -- settings ----------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get_setting(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        self.settings.set_setting(key, value)

    def add_setting(self, key: str, value: Any) -> bool:
        return self.settings.add_setting(key, value)

    def replace_setting(self, key: str, expected: Any, value: Any) -> bool:
        return self.settings.replace_setting(key, expected, value)

    def all_settings(self) -> dict[str, Any]:
        return self.settings.all_settings()


if TYPE_CHECKING:
    def _satisfies_run_store(store: Store) -> RunStore:
        """mypy checks here that ``Store`` is what the engine asks for."""
        return store


def open_store(target: str | Path | None = None, *, busy_timeout: float = 10.0) -> Store:
    """Open (creating and migrating as needed) the database at a path or SQLAlchemy URL;
    ``None`` means ``$FLOWDESK_DB`` or the default file in the user's data folder.
    ``busy_timeout`` is how long a write waits for another program's lock."""
    return Store(database_url(target), busy_timeout=busy_timeout)
