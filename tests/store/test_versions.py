"""Versions, drafts and publishing in the store (on SQLite and PostgreSQL): every published
version is kept with its note, unchanged content records no new version, the draft the
editor autosaves is apart from the published version runs by name use, and a restore
publishes an old version's content as a new one without deleting anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from flowdesk.model.errors import NotFound
from flowdesk.model.workflow import Workflow
from flowdesk.store import Store, open_store
from flowdesk.store.database import _MIGRATIONS, create_db_engine, database_url


def _wf(expression: str = "a", x: float = 0.0) -> Workflow:
    return Workflow.from_dict({"name": "Checks", "nodes": [
        {"id": "check", "type": "condition", "position": {"x": x, "y": 0},
         "data": {"config": {"expression": expression}}}]})


def test_publishing_unchanged_content_records_no_new_version(store: Store) -> None:
    assert store.versions.publish(_wf(), "first") == (1, True)
    assert store.versions.publish(_wf()) == (1, False)
    assert store.save_workflow(_wf(), new_version=True) == 1
    # key order in config does not matter; a moved step does
    assert store.versions.publish(_wf(x=10.0)) == (2, True)
    assert [(v.version, v.note, v.nodes, v.published)
            for v in store.versions.list_versions("Checks")] == [
        (1, "first", 1, False), (2, None, 1, True)]


def test_runs_by_name_get_the_published_version_and_the_editor_the_draft(
        store: Store) -> None:
    store.versions.publish(_wf("a"))
    store.save_workflow(_wf("half edited"))  # the editor's autosave
    live, version = store.get_workflow("Checks")
    assert (live.nodes[0].data.config["expression"], version) == ("a", 1)
    draft, _ = store.get_draft("Checks")
    assert draft.nodes[0].data.config["expression"] == "half edited"
    assert store.versions.draft_differs("Checks")
    assert store.versions.publish(draft) == (2, True)
    assert not store.versions.draft_differs("Checks")
    assert store.get_workflow("Checks")[0].nodes[0].data.config["expression"] == "half edited"


def test_restore_publishes_an_old_version_as_a_new_one(store: Store) -> None:
    store.versions.publish(_wf("a"))
    store.versions.publish(_wf("b"))
    store.save_workflow(_wf("draft"))
    assert store.versions.restore("Checks", 1) == (3, True)
    assert [v.version for v in store.versions.list_versions("Checks")] == [1, 2, 3]
    assert store.versions.list_versions("Checks")[-1].note == "restored from version 1"
    for read in (store.get_workflow, store.get_draft):
        assert read("Checks")[0].nodes[0].data.config["expression"] == "a"
    assert store.versions.version("Checks", 2).nodes[0].data.config["expression"] == "b"


def test_a_renamed_workflow_keeps_its_versions_under_the_new_name(store: Store) -> None:
    store.versions.publish(_wf("a"))
    store.rename_workflow("Checks", "Renamed")
    live, _ = store.get_workflow("Renamed")
    assert live.name == "Renamed"
    assert store.versions.version("Renamed", 1).name == "Renamed"
    # the rename alone is no new content
    assert store.versions.publish(live) == (1, False)


def test_unknown_workflow_or_version_is_named(store: Store) -> None:
    store.versions.publish(_wf())
    with pytest.raises(NotFound, match="no version 7"):
        store.versions.version("Checks", 7)
    with pytest.raises(NotFound, match="no workflow named 'Nope'"):
        store.versions.list_versions("Nope")
    with pytest.raises(NotFound, match="no workflow named 'Nope'"):
        store.get_workflow("Nope")


def test_the_migration_keeps_the_versions_of_a_previous_revision_database(
        db_url: str) -> None:
    engine = create_db_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO workflows (id, name, description, definition, version, created_at, "
            "updated_at) VALUES (1, 'Old', '', :d, 2, 0, 0)"),
            {"d": json.dumps({"name": "Old", "description": "draft"})})
        for version in (1, 2):
            conn.execute(sa.text(
                "INSERT INTO workflow_versions (workflow_id, version, definition, created_at) "
                "VALUES (1, :v, :d, :v)"),
                {"v": version, "d": json.dumps({"name": "Old", "description": f"v{version}"})})
    engine.dispose()
    store = open_store(db_url)
    try:
        assert [(v.version, v.note) for v in store.versions.list_versions("Old")] == [
            (1, None), (2, None)]
        assert store.get_workflow("Old")[0].description == "v2"
        assert store.get_draft("Old")[0].description == "draft"
        assert store.versions.draft_differs("Old")
        assert store.versions.publish(Workflow(name="Old"), "after") == (3, True)
        assert store.versions.list_versions("Old")[-1].note == "after"
    finally:
        store.close()


def test_sqlite_file_reopened_keeps_versions(tmp_path: Path) -> None:
    url = database_url(tmp_path / "f.db")
    first = open_store(url)
    first.versions.publish(_wf("a"), "kept")
    first.close()
    again = open_store(url)
    try:
        assert again.versions.list_versions("Checks")[0].note == "kept"
    finally:
        again.close()
