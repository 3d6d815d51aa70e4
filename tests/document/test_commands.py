"""Undo/redo: every command type, and random edit sequences, restore the exact workflow."""

from __future__ import annotations

import copy
import random

import pytest

from flowdesk.document import (
    AddItemsCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    RenameWorkflowCommand,
    SetConfigValueCommand,
    SetErrorOutputCommand,
    SetNodeFieldCommand,
    WorkflowDocument,
    layered_layout,
)
from flowdesk.model import Workflow
from flowdesk.steps import default_registry


def base() -> Workflow:
    return Workflow.model_validate({
        "name": "doc", "x-extra": 1,
        "nodes": [
            {"id": "a", "type": "transform", "position": {"x": 0, "y": 0},
             "data": {"label": "A", "config": {"output": 1}}},
            {"id": "c", "type": "condition", "position": {"x": 200, "y": 0},
             "data": {"config": {"expression": "true"}}},
            {"id": "b", "type": "transform", "position": {"x": 400, "y": 0},
             "data": {"config": {"output": "{{ steps.a.output }}"}}},
            {"id": "d", "type": "transform", "position": {"x": 400, "y": 100}},
        ],
        "edges": [{"id": "e1", "source": "a", "target": "c"},
                  {"id": "e2", "source": "c", "target": "b", "sourceHandle": "true"},
                  {"id": "e3", "source": "c", "target": "d", "sourceHandle": "false"}],
    })


@pytest.fixture
def doc(qapp) -> WorkflowDocument:
    return WorkflowDocument(base(), default_registry())


def check_round_trip(doc: WorkflowDocument, command) -> dict:
    before = copy.deepcopy(doc.serialize())
    doc.undo_stack.push(command)
    after = copy.deepcopy(doc.serialize())
    assert after != before
    doc.undo_stack.undo()
    assert doc.serialize() == before
    doc.undo_stack.redo()
    assert doc.serialize() == after
    return after


def test_add_items(doc: WorkflowDocument) -> None:
    after = check_round_trip(doc, AddItemsCommand(
        doc, [{"id": "n", "type": "delay", "data": {"config": {"seconds": 1}}}],
        [{"id": "e9", "source": "b", "target": "n"}], "Add"))
    assert after["nodes"][-1]["id"] == "n"


def test_remove_a_node_removes_its_edges_and_undo_restores_the_order(doc) -> None:
    after = check_round_trip(doc, RemoveItemsCommand(doc, ["c"], []))
    assert [n["id"] for n in after["nodes"]] == ["a", "b", "d"]
    assert after["edges"] == []


def test_remove_an_edge(doc: WorkflowDocument) -> None:
    after = check_round_trip(doc, RemoveItemsCommand(doc, [], ["e2"], "Disconnect"))
    assert [e["id"] for e in after["edges"]] == ["e1", "e3"]


def test_move(doc: WorkflowDocument) -> None:
    after = check_round_trip(doc, MoveNodesCommand(doc, {"a": ((0, 0), (20, 40))}))
    assert after["nodes"][0]["position"] == {"x": 20, "y": 40}


def test_config_edits_merge_while_typing(doc: WorkflowDocument) -> None:
    before = copy.deepcopy(doc.serialize())
    for text in ("s", "st", "ste", "steps.a.output > 1"):
        doc.undo_stack.push(SetConfigValueCommand(doc, "c", "expression", text))
    assert doc.undo_stack.count() == 1
    assert doc.node("c").data.config["expression"] == "steps.a.output > 1"
    doc.undo_stack.undo()
    assert doc.serialize() == before


def test_config_edit_adds_and_removes_a_key(doc: WorkflowDocument) -> None:
    after = check_round_trip(doc, SetConfigValueCommand(doc, "d", "output", {"k": [1]}))
    assert after["nodes"][3]["data"]["config"] == {"output": {"k": [1]}}


@pytest.mark.parametrize(("field", "value"), [
    ("label", "Renamed"), ("timeout_seconds", 12.5), ("continue_on_error", True),
    ("retry", {"max_attempts": 4, "backoff": "linear", "base_seconds": 2.0,
               "max_seconds": 60.0, "jitter": 0.0}),
])
def test_node_fields(doc: WorkflowDocument, field: str, value) -> None:
    from flowdesk.model import RetryPolicy
    if field == "retry":
        value = RetryPolicy.model_validate(value)
    check_round_trip(doc, SetNodeFieldCommand(doc, "a", field, value))


def test_rename(doc: WorkflowDocument) -> None:
    names = []
    doc.renamed.connect(names.append)
    check_round_trip(doc, RenameWorkflowCommand(doc, "renamed"))
    assert names == ["renamed", "doc", "renamed"]


def test_layout(doc: WorkflowDocument) -> None:
    positions = layered_layout(doc.workflow)
    moves = {nid: ((doc.node(nid).position.x, doc.node(nid).position.y), pos)
             for nid, pos in positions.items()}
    after = check_round_trip(doc, MoveNodesCommand(doc, moves, "Auto-layout"))
    xs = {n["id"]: n["position"]["x"] for n in after["nodes"]}
    assert xs["a"] < xs["c"] < xs["b"] == xs["d"]  # layers go left to right


def test_signals_only_when_something_changes(doc: WorkflowDocument) -> None:
    moved = []
    doc.node_moved.connect(moved.append)
    doc.set_node_position("a", 0, 0)  # unchanged
    doc.set_node_position("a", 1, 0)
    assert moved == ["a"]


def test_can_connect_refuses_cycles_duplicates_and_triggers(doc: WorkflowDocument) -> None:
    assert doc.can_connect("b", None, "a") == "this connection would create a cycle"
    assert doc.can_connect("a", None, "c") == "these steps are already connected"
    assert doc.can_connect("a", None, "a") == "a step cannot be connected to itself"
    assert doc.can_connect("a", None, "d") is None
    doc.undo_stack.push(AddItemsCommand(doc, [{"id": "hook", "type": "webhook"}], [], "Add"))
    assert "trigger" in doc.can_connect("a", None, "hook")


def test_dirty_flag_follows_the_undo_stack(doc: WorkflowDocument) -> None:
    assert not doc.dirty
    doc.undo_stack.push(MoveNodesCommand(doc, {"a": ((0, 0), (5, 5))}))
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    doc.undo_stack.undo()
    assert doc.dirty


def random_command(doc: WorkflowDocument, rng: random.Random):
    nodes = [n.id for n in doc.workflow.nodes]
    edges = [e.id for e in doc.workflow.edges]
    choice = rng.randrange(7)
    if choice == 0 or not nodes:
        nid = doc.new_node_id("t")
        return AddItemsCommand(doc, [{"id": nid, "type": "transform",
                                      "position": {"x": rng.randint(0, 900), "y": 0}}], [],
                               "Add")
    if choice == 1:
        return RemoveItemsCommand(doc, rng.sample(nodes, k=min(len(nodes), 2)), [])
    if choice == 2 and edges:
        return RemoveItemsCommand(doc, [], [rng.choice(edges)])
    if choice == 3:
        nid = rng.choice(nodes)
        pos = doc.node(nid).position
        return MoveNodesCommand(doc, {nid: ((pos.x, pos.y), (rng.random() * 500,
                                                             rng.random() * 500))})
    if choice == 4:
        return SetConfigValueCommand(doc, rng.choice(nodes), "output", rng.randint(0, 9))
    if choice == 5:
        return SetNodeFieldCommand(doc, rng.choice(nodes), "label", f"L{rng.randint(0, 9)}")
    source, target = rng.sample(nodes, 2) if len(nodes) > 1 else (nodes[0], nodes[0])
    if doc.can_connect(source, None, target) is None and \
            doc.node(source).type != "condition":
        return AddItemsCommand(doc, [], [{"id": doc.new_edge_id(), "source": source,
                                          "target": target}], "Connect")
    return RenameWorkflowCommand(doc, f"name {rng.randint(0, 99)}")


@pytest.mark.parametrize("seed", range(25))
def test_random_edit_sequences_undo_and_redo_exactly(qapp, seed: int) -> None:
    rng = random.Random(seed)
    doc = WorkflowDocument(base(), default_registry())
    states = [copy.deepcopy(doc.serialize())]
    for _ in range(30):
        count = doc.undo_stack.count()
        doc.undo_stack.push(random_command(doc, rng))
        if doc.undo_stack.count() == count:  # merged into the previous entry (typing)
            states.pop()
        states.append(copy.deepcopy(doc.serialize()))
    for expected in reversed(states[:-1]):
        doc.undo_stack.undo()
        assert doc.serialize() == expected
    for expected in states[1:]:
        doc.undo_stack.redo()
        assert doc.serialize() == expected


def test_sticky_notes_add_edit_move_delete_undo(doc: WorkflowDocument) -> None:
    from flowdesk.document.commands import AddNoteCommand, SetNoteCommand

    original = copy.deepcopy(doc.serialize())
    assert "notes" not in original
    check_round_trip(doc, AddNoteCommand(doc, {"id": "note1", "text": "Hi", "x": 0, "y": 0,
                                               "width": 220}))
    for text in ("Hi t", "Hi th", "Hi there"):
        doc.undo_stack.push(SetNoteCommand(doc, "note1", {"text": text}))
    assert doc.undo_stack.count() == 2  # typing merged into one entry
    check_round_trip(doc, SetNoteCommand(doc, "note1", {"x": 40, "y": 60}, "Move note"))
    after = check_round_trip(doc, RemoveItemsCommand(doc, [], [], note_ids=["note1"]))
    assert "notes" not in after
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert doc.serialize() == original


def test_error_port_on_connect_then_off_removes_its_edges_in_one_undo_entry(
        doc: WorkflowDocument) -> None:
    assert "no error port" in (doc.can_connect("a", "error", "d") or "")
    start = copy.deepcopy(doc.serialize())
    after = check_round_trip(doc, SetErrorOutputCommand(doc, "a", True))
    assert after["nodes"][0]["data"]["on_error"] == "error_output"
    assert doc.can_connect("a", "error", "d") is None
    assert doc.can_connect("c", "error", "d") is not None  # only where it is on
    doc.undo_stack.push(AddItemsCommand(
        doc, [], [{"id": "e9", "source": "a", "target": "d", "sourceHandle": "error"}],
        "Connect"))
    doc.revalidate()  # (the document validates 150 ms after a change)
    assert doc.problems == []
    with_edge = copy.deepcopy(doc.serialize())
    count = doc.undo_stack.count()
    off = check_round_trip(doc, SetErrorOutputCommand(doc, "a", False))
    assert doc.undo_stack.count() == count + 1  # the edge goes with it: one entry
    assert "on_error" not in off["nodes"][0]["data"]
    assert [e["id"] for e in off["edges"]] == ["e1", "e2", "e3"]
    doc.undo_stack.undo()
    assert doc.serialize() == with_edge
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert doc.serialize() == start


def test_an_edge_left_on_a_missing_error_port_is_a_located_problem(
        doc: WorkflowDocument) -> None:
    doc.undo_stack.push(SetErrorOutputCommand(doc, "a", True))
    doc.undo_stack.push(AddItemsCommand(
        doc, [], [{"id": "e9", "source": "a", "target": "d", "sourceHandle": "error"}],
        "Connect"))
    doc.undo_stack.push(SetNodeFieldCommand(doc, "a", "on_error", None))  # by hand
    doc.revalidate()
    assert [(p.code, p.edge_id, p.node_id) for p in doc.problems] == [
        ("no_error_port", "e9", "a")]
