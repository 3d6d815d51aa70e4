from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.engine.templates import format_path, iter_references, parse_path, render
from flowdesk.model.errors import TemplateError

SCOPE = {
    "input": {"name": "Ada", "count": 3, "tags": ["a", "b"], "nested": {"k": None},
              "odd key": 1},
    "steps": {"fetch": {"output": {"body": {"items": [{"id": 7}, {"id": 8}]}},
                        "status": "completed"},
              "my-step": {"output": True, "status": "completed"}},
    "run": {"id": "r1"},
}


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ input.count }}", 3),
    ("{{input.tags}}", ["a", "b"]),
    ("  {{ input.nested }}  ", {"k": None}),
    ("{{ steps.fetch.output.body.items[0].id }}", 7),
    ("{{ steps.fetch.output.body.items[-1].id }}", 8),
    ("{{ steps.my-step.output }}", True),
    ('{{ input["odd key"] }}', 1),
    ("{{ steps.fetch.status }}", "completed"),
    ("Hello {{ input.name }}!", "Hello Ada!"),
    ("n={{ input.count }} tags={{ input.tags }}", 'n=3 tags=["a", "b"]'),
    ("{{ input.nested.k }} and {{ steps.my-step.output }}", "null and true"),
    ("no templates here", "no templates here"),
])
def test_render(template: str, expected: object) -> None:
    assert render(template, SCOPE) == expected


def test_render_walks_dicts_and_lists() -> None:
    value = {"a": ["{{ input.count }}", {"b": "x{{ run.id }}"}], "n": 1}
    assert render(value, SCOPE) == {"a": [3, {"b": "xr1"}], "n": 1}


@pytest.mark.parametrize(("template", "message"), [
    ("{{ input.missing }}", "template path 'input.missing' not found: input (keys: name"),
    ("{{ steps.fetch.output.body.items[5].id }}", "has no index 5"),
    ("{{ steps.nope.output }}", "has no key 'nope'"),
    ("{{ input.count.x }}", "has no key 'x'"),
    ("{{ input.name[0] }}", None),  # indexing a string is allowed
    ("{{ }}", "empty template"),
    ("{{ input..name }}", "misplaced '.'"),
    ("{{ input.name + 1 }}", "malformed template path"),
    ("{{ 3 }}", "malformed"),
])
def test_render_errors_name_the_path(template: str, message: str | None) -> None:
    if message is None:
        assert render(template, SCOPE) == "A"
        return
    with pytest.raises(TemplateError) as info:
        render(template, SCOPE)
    assert message in str(info.value)


def test_iter_references_reports_fields_and_bad_templates() -> None:
    refs = list(iter_references({"url": "http://x/{{ input.id }}", "h": ["{{ bad path }}"]}))
    assert refs[0] == ("url", ["input", "id"], "{{ input.id }}")
    assert refs[1][0] == "h[0]" and refs[1][1] is None


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(names, json_values, min_size=1, max_size=5))
def test_whole_template_returns_the_value_itself(data: dict) -> None:
    for key, value in data.items():
        assert render("{{ input." + key + " }}", {"input": data}) == value


@given(st.dictionaries(names, json_values, min_size=1, max_size=5), st.text(max_size=10))
def test_text_template_renders_json_for_structures(data: dict, prefix: str) -> None:
    prefix = prefix.replace("{", "(")
    for key, value in data.items():
        text = render(f"{prefix}<{{{{ input.{key} }}}}>", {"input": data})
        inner = text[len(prefix) + 1 : -1]
        if isinstance(value, str):
            assert inner == value
        else:
            assert json.loads(inner) == value


@given(st.lists(names | st.integers(min_value=0, max_value=99), min_size=1, max_size=6)
       .filter(lambda p: isinstance(p[0], str)))
def test_parse_and_format_round_trip(parts: list) -> None:
    assert parse_path(format_path(parts)) == parts


# -- {{= expression }} templates ------------------------------------------------------------
def test_expression_template_keeps_its_type_when_whole() -> None:
    from flowdesk.engine.templates import render as _render

    scope = {"input": {"price": 2.5, "qty": 4, "name": "ada"}}
    assert _render("{{= input.price * input.qty }}", scope) == 10.0
    assert _render("{{= upper(input.name) }} owes {{= input.price * input.qty }}",
                   scope) == "ADA owes 10.0"
    assert _render({"ok": "{{= input.qty > 3 }}"}, scope) == {"ok": True}


def test_expression_template_errors_name_the_expression() -> None:
    import pytest as _pytest

    from flowdesk.engine.templates import render as _render
    from flowdesk.model.errors import ExpressionError

    with _pytest.raises(ExpressionError, match=r"input\.nope"):
        _render("{{= input.nope + 1 }}", {"input": {}})
    with _pytest.raises(ExpressionError, match="not allowed"):
        _render("{{= ''.__class__ }}", {"input": {}})


def test_expression_templates_are_validated_for_syntax_and_step_references() -> None:
    from flowdesk.engine.validation import validate as _validate
    from flowdesk.model.workflow import Workflow as _Workflow
    from flowdesk.steps import default_registry as _registry

    wf = _Workflow.model_validate({"name": "w", "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": 1}}},
        {"id": "b", "type": "transform", "data": {"config": {"output": {
            "ok": "{{= steps.a.output + 1 }}", "bad": "{{= 1 + }}",
            "ghost": "{{= steps.zz.output }}"}}}}],
        "edges": [{"id": "e", "source": "a", "target": "b"}]})
    problems = {(p.field, p.message.split(":")[0]) for p in _validate(wf, _registry())}
    fields = {f for f, _ in problems}
    assert "output.bad" in fields and "output.ghost" in fields and "output.ok" not in fields
