"""Pinned step outputs in the store (on SQLite and PostgreSQL): kept beside the workflow,
never in a version; replaced as a whole by the editor's autosave; they follow a rename and
go with a delete. And the newest recorded output of a step, which "Test step" falls back on."""

from __future__ import annotations

import pytest

from flowdesk.model.errors import NotFound
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import Workflow
from flowdesk.store import Store


def _wf(name: str = "Pinned") -> Workflow:
    return Workflow.from_dict({"name": name, "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": 1}}},
        {"id": "b", "type": "transform", "data": {"config": {"output": 2}}}],
        "edges": [{"id": "e", "source": "a", "target": "b"}]})


def test_pins_are_kept_apart_from_versions(store: Store) -> None:
    store.versions.publish(_wf())
    assert store.get_pins("Pinned") == {}
    store.set_pins("Pinned", {"a": {"x": [1, "é"]}, "b": None})
    assert store.get_pins("Pinned") == {"a": {"x": [1, "é"]}, "b": None}
    # no new version, the draft is unchanged, and neither carries the pins
    assert [v.version for v in store.versions.list_versions("Pinned")] == [1]
    assert not store.versions.draft_differs("Pinned")
    assert "pins" not in store.get_workflow("Pinned")[0].to_dict()
    assert "pins" not in store.get_draft("Pinned")[0].to_dict()
    store.set_pins("Pinned", {"b": 3})  # the autosave replaces them all
    assert store.get_pins("Pinned") == {"b": 3}
    store.pins.set_pin("Pinned", "a", "x")
    assert store.get_pins("Pinned") == {"a": "x", "b": 3}
    assert store.pins.clear_pins("Pinned", ["a"]) == 1
    assert store.pins.clear_pins("Pinned", ["a"]) == 0
    assert store.get_pins("Pinned") == {"b": 3}


def test_pins_follow_a_rename_and_go_with_a_delete(store: Store) -> None:
    store.versions.publish(_wf())
    store.set_pins("Pinned", {"a": 1})
    store.rename_workflow("Pinned", "Renamed")
    assert store.get_pins("Renamed") == {"a": 1}
    store.delete_workflow("Renamed")
    store.versions.publish(_wf("Renamed"))
    assert store.get_pins("Renamed") == {}
    with pytest.raises(NotFound, match="no workflow named 'Nope'"):
        store.get_pins("Nope")
    with pytest.raises(NotFound):
        store.set_pins("Nope", {"a": 1})


def test_last_outputs_are_the_newest_recorded_per_step(store: Store) -> None:
    wf = _wf()
    version, _ = store.versions.publish(wf)
    first, _ = store.create_run(wf, {"n": 1}, workflow_version=version)
    store.write(first.id, {"status": "completed"}, {
        "a": {"status": StepStatus.COMPLETED, "output": {"from": "first"}},
        "b": {"status": StepStatus.COMPLETED, "output": "b1"}}, [])
    second, _ = store.create_run(wf, {"n": 2}, workflow_version=version)
    store.write(second.id, {"status": "failed"}, {
        "a": {"status": StepStatus.COMPLETED, "output": {"from": "second"}},
        "b": {"status": StepStatus.FAILED, "error": "boom"}}, [])
    found = store.last_outputs("Pinned", ["a", "b", "zz"])
    assert found == {"a": (second.id, {"from": "second"}), "b": (first.id, "b1")}
    assert store.last_input("Pinned") == (second.id, {"n": 2})
    assert store.last_outputs("Other", ["a"]) == {}
    assert store.last_input("Other") is None
