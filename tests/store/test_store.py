from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flowdesk.model import NotFound, RunStatus, StoreError, Workflow
from flowdesk.model.events import EventType, RunEvent
from flowdesk.store import Store, open_store
from flowdesk.store.tables import metadata


def test_migrations_create_exactly_the_declared_tables(store: Store) -> None:
    with store.db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(tmp_path / "wal.db")
    with store.db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_reopening_a_migrated_database_keeps_data(tmp_path: Path) -> None:
    first = open_store(tmp_path / "a.db")
    first.save_workflow(Workflow(name="w"))
    first.close()
    again = open_store(tmp_path / "a.db")
    assert [w.name for w in again.list_workflows()] == ["w"]


def test_workflow_versions(store: Store) -> None:
    wf = Workflow(name="w", description="one")
    assert store.save_workflow(wf) == 1
    assert store.save_workflow(wf.model_copy(update={"description": "autosave"})) == 1
    assert store.save_workflow(wf.model_copy(update={"description": "two"}),
                               new_version=True) == 2
    loaded, version = store.get_workflow("w")
    assert (loaded.description, version) == ("two", 2)
    assert store.get_workflow_version("w", 1).description == "one"
    store.rename_workflow("w", "w2")
    assert store.get_workflow("w2")[0].name == "w2"
    store.delete_workflow("w2")
    with pytest.raises(NotFound):
        store.get_workflow("w2")


def test_deleting_a_run_cascades_to_steps_and_events(store: Store) -> None:
    wf = Workflow.model_validate({"name": "w", "nodes": [{"id": "a", "type": "transform"}]})
    run, _ = store.create_run(wf, {})
    store.write(run.id, {"status": RunStatus.RUNNING}, {},
                [RunEvent(run_id=run.id, seq=1, type=EventType.RUN_STARTED, ts=time.time())])
    with store.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM runs WHERE id = :id"), {"id": run.id})
        assert conn.execute(sa.text("SELECT count(*) FROM run_events")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM step_runs")).scalar() == 0


def test_duplicate_event_sequence_is_refused(store: Store) -> None:
    run, _ = store.create_run(Workflow(name="w"), {})
    event = RunEvent(run_id=run.id, seq=1, type=EventType.RUN_STARTED, ts=time.time())
    store.write(run.id, {}, {}, [event])
    with pytest.raises(sa.exc.IntegrityError):
        store.write(run.id, {}, {}, [event])
    assert store.last_seq(run.id) == 1


def test_run_id_prefixes(store: Store) -> None:
    run, _ = store.create_run(Workflow(name="w"), {})
    assert store.resolve_run_id(run.id[:8]) == run.id
    with pytest.raises(NotFound, match="no run with id 'zzzz'"):
        store.resolve_run_id("zzzz")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert "junk.db is not a flowdesk database or is damaged" in str(info.value)
    assert path.read_bytes().startswith(b"this is not sqlite")  # nothing was lost


def test_a_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    open_store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, time
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        store = open_store(path, busy_timeout=0.2)
        with pytest.raises(StoreError, match=r"locked\.db is locked by another program"):
            store.save_workflow(Workflow(name="w"))
        store.close()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # once the other program is gone, nothing was lost and writes work again
    store = open_store(path)
    store.save_workflow(Workflow(name="w"))
    assert [w.name for w in store.list_workflows()] == ["w"]
    store.close()


def test_processes_opening_a_new_file_together_migrate_it_once(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    procs = [subprocess.Popen([sys.executable, "-m", "flowdesk", "runs", "--db", str(db)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    results = [(p.wait(60), p.communicate()[1]) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert open_store(db).list_workflows() == []


def test_a_database_from_a_newer_flowdesk_is_refused_clearly_and_left_alone(
        db_url: str) -> None:
    first = open_store(db_url)
    first.save_workflow(Workflow.model_validate({"name": "kept", "nodes": []}))
    first.close()
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0042'"))
    with pytest.raises(StoreError, match=r"made by a newer flowdesk.*'0042'.*upgrade flowdesk"):
        open_store(db_url)
    with engine.connect() as conn:  # untouched: its revision and its data
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
            == "0042"
        assert conn.execute(sa.text("SELECT name FROM workflows")).scalars().all() == ["kept"]
    engine.dispose()
