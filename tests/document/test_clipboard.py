"""What a paste adds: free ids, placement, and references among the pasted steps."""

from __future__ import annotations

from flowdesk.document.clipboard import paste_items, remap_step_refs


def _payload() -> dict:
    return {"flowdesk": 1, "nodes": [
        {"id": "inline_code", "type": "inline_code", "position": {"x": 0, "y": 0},
         "data": {"label": "Count", "config": {"code": 'result = len(steps["fetch"]["output"])'}}},
        {"id": "check", "type": "condition", "position": {"x": 300, "y": 100},
         "data": {"label": "Enough?", "config": {
             "expression": "steps.inline_code.output.result > 2 and steps.fetch.status"}}},
        {"id": "notify", "type": "transform", "position": {"x": 600, "y": 100},
         "data": {"label": "Say", "config": {"output": {
             "text": "got {{ steps.inline_code.output.result }} from {{ steps.fetch.output }}",
             "all": ["{{ steps['check'].output.result }}", "steps.inline_code_2 stays"]}}}},
    ], "edges": [{"id": "e1", "source": "inline_code", "target": "check"},
                 {"id": "e7", "source": "check", "target": "notify", "sourceHandle": "true"},
                 {"id": "e9", "source": "fetch", "target": "check"}]}


def test_references_among_pasted_steps_follow_their_new_ids() -> None:
    pasted = paste_items(_payload(), ["inline_code", "check", "fetch"], ["e1"])
    assert pasted is not None
    assert pasted.mapping == {"inline_code": "inline_code_2", "check": "check_2",
                              "notify": "notify"}
    by_id = {n["id"]: n for n in pasted.nodes}
    assert by_id["check_2"]["data"]["config"]["expression"] == \
        "steps.inline_code_2.output.result > 2 and steps.fetch.status"  # fetch not pasted
    output = by_id["notify"]["data"]["config"]["output"]
    assert output["text"] == \
        "got {{ steps.inline_code_2.output.result }} from {{ steps.fetch.output }}"
    assert output["all"] == ["{{ steps['check_2'].output.result }}",
                             "steps.inline_code_2 stays"]  # a longer id is another step
    assert by_id["inline_code_2"]["data"]["config"]["code"] == \
        'result = len(steps["fetch"]["output"])'
    # edges among the pasted steps only, with free ids
    assert [(e["id"], e["source"], e["target"]) for e in pasted.edges] == [
        ("e2", "inline_code_2", "check_2"), ("e3", "check_2", "notify")]
    assert pasted.edges[1]["sourceHandle"] == "true"


def test_a_paste_is_centred_where_asked_and_never_stacks_on_itself() -> None:
    pasted = paste_items(_payload(), [], [], center=(2000, 1000), size=(220, 68))
    assert pasted is not None
    xs = [n["position"]["x"] for n in pasted.nodes]
    ys = [n["position"]["y"] for n in pasted.nodes]
    # the block spans x 0..820 and y 0..168: its middle goes to (2000, 1000), on the grid
    assert abs((min(xs) + max(xs) + 220) / 2 - 2000) <= 10
    assert abs((min(ys) + max(ys) + 68) / 2 - 1000) <= 10
    assert all(v % 20 == 0 for v in xs + ys)
    occupied = [(n["position"]["x"], n["position"]["y"]) for n in pasted.nodes]
    again = paste_items(_payload(), pasted.mapping.values(), [], center=(2000, 1000),
                        occupied=occupied)
    assert again is not None
    assert again.nodes[0]["position"] == {"x": pasted.nodes[0]["position"]["x"] + 40,
                                          "y": pasted.nodes[0]["position"]["y"] + 40}


def test_not_a_flowdesk_clipboard_pastes_nothing() -> None:
    assert paste_items("hello", [], []) is None
    assert paste_items({"flowdesk": 1, "nodes": []}, [], []) is None
    assert paste_items({"nodes": [{"id": "a"}]}, [], []) is None
    assert remap_step_refs({"a": 1}, {"x": "x"}) == {"a": 1}
