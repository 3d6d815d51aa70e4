"""Versions on the command line, as a user runs it: import publishes (with a note), an
unchanged import keeps the version, ``versions`` lists, ``diff`` names each change,
``restore`` publishes an old version anew, ``run``/``export`` use the published version
unless ``--draft`` is given."""

from __future__ import annotations

import json
from pathlib import Path

from flowdesk.model.workflow import Workflow
from flowdesk.store import open_store
from tests.test_cli import flowdesk, write

V1 = {"name": "Checks", "nodes": [
    {"id": "a", "type": "transform", "data": {"config": {"output": {"v": "{{ input.v }}"}}}},
    {"id": "check", "type": "condition", "data": {"config": {"expression": "'a' == 'a'"}}}],
    "edges": [{"id": "e", "source": "a", "target": "check"}]}
V2 = {"name": "Checks", "nodes": [
    {"id": "check", "type": "condition", "data": {"config": {"expression": "'b' == 'a'"}}},
    {"id": "fetch", "type": "transform", "data": {"config": {"output": 1}}}],
    "edges": [{"id": "e2", "source": "check", "target": "fetch", "sourceHandle": "true"}]}


def _two_versions(tmp_path: Path) -> Path:
    db = tmp_path / "f.db"
    first = flowdesk("import", str(write(tmp_path, "v1.json", V1)), "--note", "first", db=db)
    assert first.returncode == 0 and "(version 1)" in first.stdout, first.stderr
    again = flowdesk("import", str(tmp_path / "v1.json"), db=db)
    assert "kept 'Checks' (version 1)" in again.stdout
    second = flowdesk("import", str(write(tmp_path, "v2.json", V2)), db=db)
    assert "updated 'Checks' (version 2)" in second.stdout
    return db


def test_versions_lists_number_time_nodes_note(tmp_path: Path) -> None:
    db = _two_versions(tmp_path)
    listed = flowdesk("versions", "Checks", db=db)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    # VERSION [(live)] DATE TIME NODES [NOTE]
    assert [(r[0], "(live)" in r, r[-1]) for r in rows] == [("1", False, "first"),
                                                            ("2", True, "2")]
    data = json.loads(flowdesk("versions", "Checks", "--json", db=db).stdout)
    assert [(v["version"], v["nodes"], v["note"], v["published"])
            for v in data["versions"]] == [(1, 2, "first", False), (2, 2, None, True)]
    assert data["draft_differs"] is False


def test_diff_names_each_change(tmp_path: Path) -> None:
    db = _two_versions(tmp_path)
    result = flowdesk("diff", "Checks", "1", "2", db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "+ step fetch (transform)",
        "- step a (transform)",
        "~ step check: config.expression \"'a' == 'a'\" → \"'b' == 'a'\"",
        "+ edge check → fetch [true]",
        "- edge a → check",
    ]
    data = json.loads(flowdesk("diff", "Checks", "1", "2", "--json", db=db).stdout)
    assert [(s["change"], s["id"]) for s in data["steps"]] == [
        ("added", "fetch"), ("removed", "a"), ("changed", "check")]
    assert data["steps"][2]["fields"] == [{"field": "config.expression",
                                           "old": "'a' == 'a'", "new": "'b' == 'a'"}]


def test_restore_publishes_an_old_version_as_a_new_one(tmp_path: Path) -> None:
    db = _two_versions(tmp_path)
    result = flowdesk("restore", "Checks", "1", db=db)
    assert result.returncode == 0 and "as version 3" in result.stdout, result.stderr
    assert flowdesk("diff", "Checks", "1", "3", db=db).stdout == ""
    exported = json.loads(flowdesk("export", "Checks", db=db).stdout)
    assert [n["id"] for n in exported["nodes"]] == ["a", "check"]
    data = json.loads(flowdesk("versions", "Checks", "--json", db=db).stdout)
    assert [v["version"] for v in data["versions"]] == [1, 2, 3]


def test_unknown_workflow_or_version_exits_2_with_a_message(tmp_path: Path) -> None:
    db = _two_versions(tmp_path)
    for args, message in ((("versions", "Nope"), "no workflow named 'Nope'"),
                          (("diff", "Checks", "1", "9"), "has no version 9"),
                          (("restore", "Checks", "9"), "has no version 9"),
                          (("diff", "Checks", "x", "1"), "'x' is not a version number")):
        result = flowdesk(*args, db=db)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_run_and_export_use_the_published_version_unless_draft(tmp_path: Path) -> None:
    db = _two_versions(tmp_path)
    store = open_store(db)
    try:  # what the editor's autosave does: the draft changes, the live version does not
        draft = Workflow.from_dict({**V2, "nodes": [
            {"id": "check", "type": "condition",
             "data": {"config": {"expression": "'b' == 'b'"}}}], "edges": []})
        store.save_workflow(draft)
    finally:
        store.close()
    live = json.loads(flowdesk("run", "Checks", "--json", db=db).stdout)
    assert live["steps"]["check"]["output"] == {"result": False}
    assert live["steps"]["fetch"]["status"] == "skipped"
    drafted = json.loads(flowdesk("run", "Checks", "--draft", "--json", db=db).stdout)
    assert drafted["steps"]["check"]["output"] == {"result": True}
    assert "fetch" not in drafted["steps"]
    assert len(json.loads(flowdesk("export", "Checks", db=db).stdout)["nodes"]) == 2
    assert len(json.loads(flowdesk("export", "Checks", "--draft", db=db).stdout)["nodes"]) == 1
    assert "the draft differs from the live version 2" in flowdesk(
        "versions", "Checks", db=db).stderr
    diff = flowdesk("diff", "Checks", "2", "draft", db=db).stdout
    assert "- step fetch (transform)" in diff and "- edge check → fetch [true]" in diff
