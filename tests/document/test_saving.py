"""Nothing typed is lost: clearing a field, invalid text kept as a draft, and a save that
fails is reported at once (and recovers), all on a real SQLite store."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from flowdesk.document import RenameWorkflowCommand, SetConfigValueCommand
from flowdesk.document.document import UNSET
from flowdesk.document.library import WorkflowLibrary
from flowdesk.engine.validation import validate
from flowdesk.model import Workflow
from flowdesk.model.errors import StoreError
from flowdesk.steps import default_registry
from flowdesk.store import open_store

DELAY = {"id": "wait", "type": "delay", "position": {"x": 0, "y": 0},
         "data": {"config": {"until": "{{ input.when }}"}}}


@pytest.fixture
def library(qapp, tmp_path: Path):
    store = open_store(tmp_path / "flowdesk.db")
    lib = WorkflowLibrary(store, default_registry(), autosave_ms=10)
    yield lib
    store.close()


def test_unset_survives_copying() -> None:
    assert copy.deepcopy(UNSET) is UNSET
    assert copy.copy(UNSET) is UNSET
    assert copy.deepcopy({"v": UNSET})["v"] is UNSET


def test_clearing_a_field_removes_the_key_and_autosave_keeps_working(library) -> None:
    library.store.save_workflow(Workflow.model_validate({"name": "W", "nodes": [DELAY]}))
    doc = library.open("W")
    doc.undo_stack.push(SetConfigValueCommand(doc, "wait", "until", UNSET))
    assert "until" not in doc.node("wait").data.config
    assert library.save_now() and library.save_error is None
    stored, _ = library.store.get_draft("W")
    assert "until" not in stored.node("wait").data.config
    doc.undo_stack.undo()
    assert library.save_now()
    assert library.store.get_draft("W")[0].node("wait").data.config == {
        "until": "{{ input.when }}"}
    doc.undo_stack.redo()
    assert library.save_now()
    assert "until" not in library.store.get_draft("W")[0].node("wait").data.config


def test_invalid_text_is_kept_as_a_draft_and_reported_where_it_is(library) -> None:
    library.store.save_workflow(Workflow.model_validate({"name": "W", "nodes": [
        {"id": "t", "type": "transform", "data": {"config": {"output": {"a": 1}}}}]}))
    doc = library.open("W")
    doc.undo_stack.push(SetConfigValueCommand(doc, "t", "output", UNSET, draft='{"a": '))
    assert doc.drafts_of("t") == {"output": '{"a": '}
    assert "output" not in doc.node("t").data.config
    problems = [p for p in validate(doc.workflow, doc.registry) if p.node_id == "t"]
    assert [(p.code, p.field) for p in problems] == [("invalid_value", "output")]
    assert "kept as typed" in problems[0].message and "not valid JSON" in problems[0].message
    assert library.save_now()
    reopened = open_store(library.store.url.removeprefix("sqlite:///"))
    try:
        stored, _ = reopened.get_draft("W")
    finally:
        reopened.close()
    assert stored.node("t").data.model_extra["drafts"] == {"output": '{"a": '}
    doc.undo_stack.undo()
    assert doc.drafts_of("t") == {} and doc.node("t").data.config["output"] == {"a": 1}
    doc.undo_stack.redo()
    assert doc.drafts_of("t") == {"output": '{"a": '}
    # finishing the text replaces the draft (typing in one field is one undo entry)
    doc.undo_stack.push(SetConfigValueCommand(doc, "t", "output", {"a": 2}))
    assert doc.drafts_of("t") == {} and doc.node("t").data.config["output"] == {"a": 2}
    assert "drafts" not in doc.serialize()["nodes"][0]["data"]
    assert doc.undo_stack.count() == 1


def test_a_failing_save_is_reported_and_retried_until_it_works(library, qtbot,
                                                                tmp_path) -> None:
    library.store.save_workflow(Workflow(name="Other"))
    library.store.save_workflow(Workflow.model_validate({"name": "W", "nodes": [DELAY]}))
    doc = library.open("W")
    reports: list[str] = []
    library.save_failed.connect(reports.append)
    doc.undo_stack.push(RenameWorkflowCommand(doc, "Other"))  # that name is taken
    with qtbot.waitSignal(library.save_failed, timeout=5000):
        pass  # the autosave runs, fails and says so
    assert library.save_error is not None and "already exists" in library.save_error
    assert "NOT saved" in reports[0] and "Export" in reports[0]
    assert library.has_pending_save()  # it tries again by itself
    with pytest.raises(StoreError):
        library.open("Other")  # switching would lose the edits: refused, doc stays open
    assert library.doc is doc
    copy_path = tmp_path / "copy.json"
    library.export("Other", copy_path)  # the advice works: the edits are in the copy
    assert Workflow.load(copy_path).node("wait").data.config == DELAY["data"]["config"]
    assert Workflow.load(copy_path).name == "Other"
    doc.undo_stack.undo()
    assert library.save_now()
    assert reports[-1] == "" and library.save_error is None


def test_a_value_that_cannot_be_stored_fails_the_save_visibly(library) -> None:
    library.store.save_workflow(Workflow.model_validate({"name": "W", "nodes": [DELAY]}))
    doc = library.open("W")
    doc.set_config_value("wait", "until", object())  # what the old UNSET copy was like
    assert library.save_now() is False
    assert library.save_error is not None and "NOT saved" in library.save_error
    doc.set_config_value("wait", "until", "{{ input.when }}")
    assert library.save_now() is True and library.save_error is None
