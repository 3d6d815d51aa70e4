from __future__ import annotations

import json

import pytest

from flowdesk.model import Workflow, WorkflowFileError

FILE = {
    "name": "Order check", "description": "", "input_schema": {"type": "object"},
    "x-editor": {"zoom": 1.5},
    "nodes": [{"id": "fetch", "type": "http_request", "position": {"x": 10, "y": 20},
               "color": "blue",
               "data": {"label": "Fetch order",
                        "config": {"method": "GET", "url": "{{ input.url }}"},
                        "retry": {"max_attempts": 3, "backoff": "exponential",
                                  "base_seconds": 0.5},
                        "timeout_seconds": 30, "notes": "kept"}}],
    "edges": [{"id": "e1", "source": "check", "target": "notify", "sourceHandle": "true",
               "animated": True, "label": None}],
}


def test_unknown_fields_survive_load_and_save(tmp_path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(FILE))
    Workflow.load(path).save(tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["x-editor"] == {"zoom": 1.5}
    assert out["nodes"][0]["color"] == "blue"
    assert out["nodes"][0]["data"]["notes"] == "kept"
    assert out["edges"][0]["animated"] is True
    assert out["edges"][0]["label"] is None
    assert out["edges"][0]["sourceHandle"] == "true"
    assert out["nodes"][0]["data"]["retry"]["base_seconds"] == 0.5
    # a second round trip is stable
    assert Workflow.from_dict(out).to_dict() == out


def test_unset_optional_fields_are_not_written() -> None:
    out = Workflow.from_dict({"name": "w", "nodes": [{"id": "a", "type": "transform"}],
                              "edges": [{"id": "e", "source": "a", "target": "a"}]}).to_dict()
    assert "retry" not in out["nodes"][0]["data"]
    assert "timeout_seconds" not in out["nodes"][0]["data"]
    assert "sourceHandle" not in out["edges"][0]


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"nodes": []}', "name: Field required"),
    ('{"name": "w", "nodes": [{"id": "a"}]}', "nodes[0].type: Field required"),
    ('{"name": "w", "nodes": [{"id": "a", "type": "t", "data": {"retry": {"max_attempts": 0}}}]}',
     "nodes[0].data.retry.max_attempts: Input should be greater than or equal to 1"),
])
def test_malformed_files_say_what_and_where(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(WorkflowFileError) as info:
        Workflow.load(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(WorkflowFileError, match="no such file"):
        Workflow.load("/nonexistent/w.json")
