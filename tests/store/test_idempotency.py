"""Idempotency keys are unique per workflow (on both databases): the same key starts one run
per workflow, and a database of the previous revision keeps its keys."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from flowdesk.model import Workflow
from flowdesk.store import Store, open_store
from flowdesk.store.database import _MIGRATIONS, create_db_engine


def _stored(store: Store, name: str) -> tuple[Workflow, int]:
    store.save_workflow(Workflow(name=name), new_version=True)
    return store.get_workflow(name)


def test_the_same_key_starts_one_run_per_workflow(store: Store) -> None:
    a, va = _stored(store, "A")
    b, vb = _stored(store, "B")
    first, created = store.create_run(a, {}, workflow_version=va, idempotency_key="K1")
    assert created
    again, created = store.create_run(a, {}, workflow_version=va, idempotency_key="K1")
    assert (again.id, created) == (first.id, False)
    other, created = store.create_run(b, {}, workflow_version=vb, idempotency_key="K1")
    assert created and other.id != first.id and other.workflow_name == "B"
    assert store.create_run(b, {}, workflow_version=vb, idempotency_key="K1")[0].id == other.id


def test_runs_from_files_share_keys_by_name_and_not_with_stored_workflows(
        store: Store) -> None:
    stored, version = _stored(store, "A")
    from_file, created = store.create_run(Workflow(name="A"), {}, idempotency_key="K")
    assert created and from_file.workflow_id is None
    assert store.create_run(Workflow(name="A"), {}, idempotency_key="K")[0].id == from_file.id
    assert store.create_run(Workflow(name="Z"), {}, idempotency_key="K")[1]
    assert store.create_run(stored, {}, workflow_version=version, idempotency_key="K")[1]


def test_a_rename_keeps_the_keys_of_a_workflow(store: Store) -> None:
    a, va = _stored(store, "A")
    first, _ = store.create_run(a, {}, workflow_version=va, idempotency_key="K")
    store.rename_workflow("A", "A2")
    renamed, version = store.get_workflow("A2")
    again, created = store.create_run(renamed, {}, workflow_version=version,
                                      idempotency_key="K")
    assert (again.id, created) == (first.id, False)


def test_racing_starts_with_one_key_make_one_run(db_url: str) -> None:
    stores = [open_store(db_url) for _ in range(4)]
    try:
        workflow, version = _stored(stores[0], "A")
        barrier = threading.Barrier(len(stores))
        results: list[tuple[str, bool]] = []

        def start(s: Store) -> None:
            barrier.wait()
            run, created = s.create_run(workflow, {}, workflow_version=version,
                                        idempotency_key="once")
            results.append((run.id, created))

        threads = [threading.Thread(target=start, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len({run_id for run_id, _ in results}) == 1
        assert [created for _, created in results].count(True) == 1
    finally:
        for s in stores:
            s.close()


def test_the_migration_keeps_keys_steps_and_events_of_existing_runs(db_url: str) -> None:
    engine = create_db_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    definition = json.dumps({"name": "A", "nodes": [{"id": "s", "type": "transform"}]})
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO workflows (id, name, description, definition, version, created_at, "
            "updated_at) VALUES (1, 'A', '', :d, 1, 0, 0)"), {"d": definition})
        conn.execute(sa.text(
            "INSERT INTO workflow_versions (workflow_id, version, definition, created_at) "
            "VALUES (1, 1, :d, 0)"), {"d": definition})
        for run_id, wf_id, key in (("r1", 1, "K1"), ("r2", None, "K2"), ("r3", 1, None)):
            conn.execute(sa.text(
                "INSERT INTO runs (id, workflow_name, workflow_id, workflow_version, "
                "definition, status, created_at, attempt, idempotency_key) "
                "VALUES (:i, 'A', :w, 1, :d, 'completed', 1, 1, :k)"),
                {"i": run_id, "w": wf_id, "d": definition, "k": key})
            conn.execute(sa.text(
                "INSERT INTO step_runs (run_id, step_id, status, attempts) "
                "VALUES (:i, 's', 'completed', 1)"), {"i": run_id})
            conn.execute(sa.text(
                "INSERT INTO run_events (run_id, seq, type, ts, payload) "
                "VALUES (:i, 1, 'run.completed', 1, '{}')"), {"i": run_id})
    engine.dispose()
    store = open_store(db_url)
    try:
        for run_id in ("r1", "r2", "r3"):
            assert store.get_run(run_id).steps["s"].attempts == 1
            assert len(store.get_events(run_id)) == 1
        assert store.get_run("r1").idempotency_key == "K1"
        workflow, version = store.get_workflow("A")
        assert store.create_run(workflow, {}, workflow_version=version,
                                idempotency_key="K1") == (store.get_run("r1"), False)
        assert store.create_run(Workflow(name="A"), {}, idempotency_key="K2")[0].id == "r2"
        assert store.create_run(workflow, {}, workflow_version=version,
                                idempotency_key="K2")[1]
        with store.db.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()
