"""What typed text means in an inspector field (pure functions, no widgets)."""

from __future__ import annotations

from flowdesk.document.document import UNSET
from flowdesk.ui.panels.fields import field_text, parse_field_text, whole_template


def test_a_whole_value_template_is_one_template_and_nothing_else() -> None:
    assert whole_template("{{ input.orders }}")
    assert whole_template("  {{ steps.a.output.items[0] }}\n")
    assert not whole_template("{{ a }} and {{ b }}")
    assert not whole_template('{"a": "{{ a }}"}')
    assert not whole_template("input.orders")


def test_json_fields_take_expressions_json_or_keep_a_draft() -> None:
    assert parse_field_text("json", "{{ input.orders }}") == ("{{ input.orders }}", None, "")
    assert parse_field_text("json", '{"a": [1, "{{ x }}"]}')[:2] == ({"a": [1, "{{ x }}"]},
                                                                      None)
    value, draft, error = parse_field_text("json", '{"a": ')
    assert value is UNSET and draft == '{"a": ' and "not valid JSON" in error
    assert parse_field_text("json", "  ")[:2] == (UNSET, None)


def test_number_fields_and_text_fields() -> None:
    assert parse_field_text("number", "2.5")[:2] == (2.5, None)
    assert parse_field_text("number", "{{ input.n }}")[:2] == ("{{ input.n }}", None)
    assert parse_field_text("number", "abc")[:2] == (UNSET, "abc")
    assert parse_field_text("text", " kept as is ")[:2] == (" kept as is ", None)


def test_stored_values_are_shown_whatever_their_type() -> None:
    assert field_text("json", "{{ input.orders }}") == "{{ input.orders }}"
    assert field_text("json", {"a": 1}) == '{\n  "a": 1\n}'
    assert field_text("text", {"a": 1}) == '{"a": 1}'
    assert field_text("text", UNSET) == "" and field_text("number", None) == ""
