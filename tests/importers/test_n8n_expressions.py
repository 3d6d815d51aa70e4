"""n8n expression idioms → flowdesk templates, checked by rendering the result over a scope."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.engine.templates import render
from flowdesk.importers.n8n_expr import PathPart, Untranslatable, translate_js, translate_value

ROOTS: dict[str | None, list[PathPart]] = {
    None: ["steps", "fetch", "output", "body"],  # $json: what the HTTP step returned
    "Webhook": ["input", "body"],
    "Fetch": ["steps", "fetch", "output", "body"],
}


def resolve(kind: str, target: str | None) -> list[PathPart]:
    if kind == "json":
        return list(ROOTS[None])
    if target not in ROOTS:
        raise Untranslatable(f"there is no node named {target!r}")
    return list(ROOTS[target])


SCOPE: dict[str, Any] = {
    "input": {"body": {"name": "ada", "qty": 3, "tags": ["a", "vip"]}},
    "steps": {"fetch": {"status": "completed", "output": {"body": {
        "price": 2.5, "city": " Paris ", "items": [{"id": 7}], "from": "x", "n": None}}}},
    "run": {"id": "r-1", "workflow": "W"},
}


def value_of(n8n: str) -> Any:
    out, problems = translate_value(n8n, resolve)
    assert problems == []
    return render(out, SCOPE)


@pytest.mark.parametrize(("n8n", "expected"), [
    ("={{ $json.price }}", 2.5),
    ("={{ $json['price'] }}", 2.5),
    ('={{ $json["items"][0].id }}', 7),
    ("={{ $input.item.json.price }}", 2.5),
    ("={{ $input.first().json.items[0].id }}", 7),
    ("={{ $input.all()[0].json.price }}", 2.5),
    ("={{ $('Webhook').item.json.name }}", "ada"),
    ("={{ $('Webhook').first().json.qty }}", 3),
    ('={{ $node["Webhook"].json["name"] }}', "ada"),
    ("={{ $node.Fetch.json.price }}", 2.5),
    ("={{ $json.price * $('Webhook').item.json.qty }}", 7.5),
    ("={{ ($json.price + 1) * 2 }}", 7.0),
    ("={{ $('Webhook').item.json.qty % 2 === 1 }}", True),
    ("={{ 'Hi ' + $('Webhook').item.json.name + '!' }}", "Hi ada!"),
    ("={{ `${$('Webhook').item.json.name} x${$('Webhook').item.json.qty}` }}", "ada x3"),
    ("=Dear {{ $('Webhook').item.json.name }}, {{ $json.price }} EUR", "Dear ada, 2.5 EUR"),
    ("={{ $json.city.trim().toUpperCase() }}", "PARIS"),
    ("={{ $('Webhook').item.json.tags.includes('vip') }}", True),
    ("={{ $('Webhook').item.json.tags.length }}", 2),
    ("={{ $json.n ?? 'none' }}", "none"),
    ("={{ $json.missing ?? 'none' }}", "none"),
    ("={{ $json.price > 2 && !$json.n ? 'big' : 'small' }}", "big"),
    ("={{ Math.round($json.price) }}", 2),
    ("={{ parseInt('42') + 1 }}", 43),
    ("={{ $json.from }}", "x"),  # a Python keyword as a key
    ("={{ $execution.id }}", "r-1"),
    ("={{ $workflow.name }}", "W"),
])
def test_idioms_translate_and_render(n8n: str, expected: Any) -> None:
    assert value_of(n8n) == expected


def test_a_string_without_a_leading_equals_sign_is_a_literal() -> None:
    assert translate_value("price: $json.price", resolve) == ("price: $json.price", [])


def test_a_single_path_keeps_its_type_and_is_a_plain_template() -> None:
    out, _ = translate_value("={{ $json.items }}", resolve)
    assert out == "{{ steps.fetch.output.body.items }}"
    assert render(out, SCOPE) == [{"id": 7}]


def test_env_becomes_a_secret_reference() -> None:
    assert translate_value("=Bearer {{ $env.API_TOKEN }}", resolve)[0] == \
        "Bearer {{ secrets.API_TOKEN }}"


@pytest.mark.parametrize(("n8n", "why"), [
    ("={{ $json.city.replace(/ /g, '') }}", "replace"),
    ("={{ $now.toFormat('yyyy') }}", "Luxon"),
    ("={{ $('Nope').item.json.x }}", "no node named 'Nope'"),
    ("={{ $input.last().json.x }}", "another item"),
    ("={{ $input.all().map(i => i.json.x) }}", "'=> i.json.x)' has no flowdesk"),
    ("={{ $input.all() }}", "list of items"),
    ("={{ DateTime.now() }}", "DateTime"),
])
def test_what_cannot_be_said_is_kept_as_text_with_a_reason(n8n: str, why: str) -> None:
    out, problems = translate_value("=Value: " + n8n[1:], resolve)
    assert len(problems) == 1 and why in problems[0]
    inner = n8n[1:].strip()[2:-2].strip()
    assert out == f"Value: «{inner}»"  # the original text stays visible in the field


def test_translate_js_refuses_junk() -> None:
    with pytest.raises(Untranslatable):
        translate_js("$json.a +", resolve)
    with pytest.raises(Untranslatable):
        translate_js("", resolve)
