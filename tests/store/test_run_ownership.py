"""Runs belong to the workflow, not to its name; the migration that made it so keeps every
run of a database created before it."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from flowdesk.model import Workflow
from flowdesk.store import Store, open_store
from flowdesk.store.database import _MIGRATIONS, create_db_engine, database_url


def _run(store: Store, name: str) -> str:
    workflow, version = store.get_workflow(name)
    run, _ = store.create_run(workflow, {}, workflow_version=version)
    return run.id


def test_rename_keeps_history_and_an_old_name_starts_empty(store: Store) -> None:
    store.save_workflow(Workflow(name="Probe"))
    first = _run(store, "Probe")
    store.rename_workflow("Probe", "Probe flow")
    assert [r.id for r in store.list_runs(workflow="Probe flow")] == [first]
    assert store.get_run(first).workflow_name == "Probe flow"  # listed under its name now
    store.save_workflow(Workflow(name="Probe"))  # a new workflow given the old name
    assert store.list_runs(workflow="Probe") == []
    second = _run(store, "Probe")
    assert [r.id for r in store.list_runs(workflow="Probe")] == [second]
    assert [r.id for r in store.list_runs(workflow="Probe flow")] == [first]


def test_a_deleted_workflows_runs_never_become_a_new_ones(store: Store) -> None:
    store.save_workflow(Workflow(name="A"))
    store.save_workflow(Workflow(name="Gone"))  # the highest id: SQLite would reuse it
    old = _run(store, "Gone")
    store.delete_workflow("Gone")
    store.save_workflow(Workflow(name="Fresh"))
    store.save_workflow(Workflow(name="Gone"))
    assert store.list_runs(workflow="Fresh") == []
    assert store.list_runs(workflow="Gone") == []
    assert store.get_run(old).workflow_name == "Gone"  # still there, by id


def test_runs_of_a_file_are_listed_by_their_name(store: Store) -> None:
    run, _ = store.create_run(Workflow(name="From file"), {})
    assert run.workflow_id is None
    assert [r.id for r in store.list_runs(workflow="From file")] == [run.id]


def test_the_migration_moves_a_database_of_the_previous_revision(tmp_path: Path) -> None:
    url = database_url(tmp_path / "old.db")
    engine = create_db_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    definition = json.dumps({"name": "x", "nodes": []})
    with engine.begin() as conn:
        for wf_id, name in ((1, "Orders"), (2, "Refunds")):
            conn.execute(sa.text(
                "INSERT INTO workflows (id, name, description, definition, version, "
                "created_at, updated_at) VALUES (:i, :n, '', :d, 1, 0, 0)"),
                {"i": wf_id, "n": name, "d": json.dumps({"name": name})})
        for run_id, name, created in (("r1", "Orders", 1.0), ("r2", "Orders", 2.0),
                                      ("r3", "Refunds", 3.0), ("r4", "Renamed away", 4.0)):
            conn.execute(sa.text(
                "INSERT INTO runs (id, workflow_name, workflow_version, definition, status, "
                "created_at, attempt) VALUES (:i, :n, 1, :d, 'completed', :c, 1)"),
                {"i": run_id, "n": name, "d": definition, "c": created})
            conn.execute(sa.text(
                "INSERT INTO step_runs (run_id, step_id, status, attempts) "
                "VALUES (:i, 's', 'completed', 1)"), {"i": run_id})
    engine.dispose()

    store = open_store(tmp_path / "old.db")
    try:
        with store.db.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() \
                == "0006"
        assert [r.id for r in store.list_runs(limit=None)] == ["r4", "r3", "r2", "r1"]
        assert [r.id for r in store.list_runs(workflow="Orders")] == ["r2", "r1"]
        assert store.get_run("r1").workflow_id == 1 and store.get_run("r3").workflow_id == 2
        assert store.get_run("r1").steps["s"].attempts == 1
        # runs of a name no stored workflow has are kept, and listed by that name
        assert [r.id for r in store.list_runs(workflow="Renamed away")] == ["r4"]
        store.rename_workflow("Orders", "Order checks")
        assert [r.id for r in store.list_runs(workflow="Order checks")] == ["r2", "r1"]
        store.save_workflow(Workflow(name="Brand new"))
        assert store.workflow_id("Brand new") == 3
    finally:
        store.close()
