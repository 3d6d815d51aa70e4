from __future__ import annotations

from flowdesk.engine.validation import validate
from flowdesk.model import Workflow
from flowdesk.steps import default_registry
from tests.helpers.registry import wf


def problems(definition: dict) -> list[tuple[str, str | None, str | None, str | None]]:
    found = validate(Workflow.model_validate(definition), default_registry())
    return [(p.code, p.node_id, p.edge_id, p.field) for p in found]


def messages(definition: dict) -> list[str]:
    return [str(p) for p in validate(Workflow.model_validate(definition), default_registry())]


def test_valid_workflow_has_no_problems() -> None:
    assert problems(wf(
        [{"id": "a", "type": "transform", "config": {"output": "{{ input.x }}"}},
         {"id": "c", "type": "condition", "config": {"expression": "steps.a.output > 1"}},
         {"id": "b", "type": "transform", "config": {"output": "{{ steps.a.output }}"}}],
        [("a", "c"), ("c", "b", "true")])) == []


def test_cycle_names_its_nodes() -> None:
    msgs = messages(wf([{"id": x, "type": "transform"} for x in "abc"],
                       [("a", "b"), ("b", "c"), ("c", "a")]))
    assert any("cycle: a → b → c → a" in m for m in msgs)


def test_all_problems_are_reported_at_once_each_located() -> None:
    found = problems({
        "name": "bad",
        "nodes": [
            {"id": "a", "type": "no_such_step"},
            {"id": "a", "type": "transform"},
            {"id": "h", "type": "http_request", "data": {"config": {"method": "FETCH"}}},
            {"id": "c", "type": "condition", "data": {"config": {"expression": "1 +"}}},
            {"id": "t", "type": "transform",
             "data": {"config": {"output": "{{ steps.ghost.output }} {{ steps.later.output }}"}}},
            {"id": "later", "type": "transform", "data": {"config": {"output": "{{ item }}"}}},
            {"id": "hook", "type": "webhook"},
        ],
        "edges": [
            {"id": "e1", "source": "c", "target": "t", "sourceHandle": "yes"},
            {"id": "e2", "source": "t", "target": "nowhere"},
            {"id": "e3", "source": "t", "target": "hook"},
            {"id": "e4", "source": "t", "target": "later"},
        ],
    })
    codes = {(code, node, edge, field) for code, node, edge, field in found}
    assert ("duplicate_node_id", "a", None, None) in codes
    assert ("unknown_step_type", "a", None, "type") in codes
    assert ("bad_config", "h", None, "method") in codes
    assert ("bad_config", "h", None, "url") in codes
    assert ("bad_expression", "c", None, "expression") in codes
    assert ("unknown_reference", "t", None, "output") in codes
    assert ("not_upstream", "t", None, "output") in codes
    assert ("bad_handle", "c", "e1", "sourceHandle") in codes
    assert ("edge_missing_node", None, "e2", "target") in codes
    assert ("trigger_has_input", "hook", "e3", None) in codes
    assert ("bad_template", "later", None, "output") in codes


def test_template_may_stand_for_any_type_until_run_time() -> None:
    assert problems(wf([{"id": "d", "type": "delay",
                         "config": {"seconds": "{{ input.wait }}"}}])) == []


def test_condition_reading_a_step_that_is_not_upstream() -> None:
    found = problems(wf([{"id": "x", "type": "transform"},
                         {"id": "c", "type": "condition",
                          "config": {"expression": "steps.x.output == 1"}}]))
    assert ("not_upstream", "c", None, "expression") in found


def test_for_each_spec_may_use_item_and_index() -> None:
    assert problems(wf([{"id": "l", "type": "for_each", "config": {
        "items": "{{ input.list }}",
        "step": {"type": "transform", "config": {"output": "{{ item.id }}-{{ index }}"}}}}])) == []


def test_duplicate_edges_are_reported() -> None:
    found = problems(wf([{"id": "a", "type": "transform"}, {"id": "b", "type": "transform"}],
                        [("a", "b"), ("a", "b")]))
    assert ("duplicate_edge", None, "e1", None) in found
