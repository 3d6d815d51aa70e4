from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.engine.expressions import evaluate, iter_step_references
from flowdesk.model.errors import ExpressionError

SCOPE = {
    "input": {"amount": 120, "country": "FR", "tags": ["vip", "new"], "items": {"a": 1},
              "name": "Ada"},
    "steps": {"fetch": {"output": {"status_code": 200, "body": {"ok": True}},
                        "status": "completed"}},
}


@pytest.mark.parametrize(("expression", "expected"), [
    ("input.amount > 100", True),
    ("input.amount > 100 and input.country == 'FR'", True),
    ("not (input.amount < 10) or false", True),
    ("steps.fetch.output.status_code == 200", True),
    ("steps['fetch']['output']['body']['ok']", True),
    ("'vip' in input.tags", True),
    ("contains(input.tags, 'old')", False),
    ("len(input.tags) * 2 + 1", 5),
    ("lower(input.country) == 'fr'", True),
    ("input.items.a", 1),  # dotted access reads keys, even 'items'
    ("input.amount if input.amount > 1000 else 0", 0),
    ("upper(input.name)", "ADA"),
    ("round(input.amount / 7, 2)", 17.14),
    ("get(input, 'missing', 'dflt')", "dflt"),
    ("null == None", True),
    ("[x * 2 for x in [1, 2, 3]]", [2, 4, 6]),
])
def test_evaluate(expression: str, expected: object) -> None:
    assert evaluate(expression, SCOPE) == expected


# Known ways out of naive Python-expression sandboxes. Each must be refused.
ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "input.__class__",
    "input['__class__']",
    "[].__class__.__base__",
    "(lambda: 1)()",
    "__import__('os').system('echo pwned')",
    "import os",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "getattr(input, '__class__')",
    "globals()",
    "locals()",
    "vars()",
    "dir()",
    "type(input)",
    "input.name.format",
    "'{0.__class__}'.format(input)",
    "input.name.upper()",
    "compile('1', 'x', 'eval')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "breakpoint()",
    "(x for x in []).gi_frame",
    "9 ** 9 ** 9",
    "'a' * 10 ** 9",
    "f'{input.__class__}'",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempts_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, SCOPE)


@pytest.mark.parametrize(("expression", "message"), [
    ("input.nope > 1", "no key 'nope'"),
    ("unknown_name", "unknown name 'unknown_name'"),
    ("1 +", "invalid expression"),
    ("", "empty"),
    ("1 / 0", "ZeroDivisionError"),
    ("input.amount > 'x'", "TypeError"),
])
def test_expression_errors_are_clear(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, SCOPE)
    assert message in str(info.value)


def test_step_references_are_found() -> None:
    refs = set(iter_step_references("steps.a.output.x > 1 and steps['b-c'].status == 'x'"))
    assert refs == {"a", "b-c"}


@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6))
def test_arithmetic_and_comparisons_match_python(a: int, b: int) -> None:
    scope = {"input": {"a": a, "b": b}}
    assert evaluate("input.a + input.b * 2", scope) == a + b * 2
    assert evaluate("input.a < input.b or input.a == input.b", scope) == (a <= b)
    assert evaluate("max(input.a, input.b) - min(input.a, input.b)", scope) == abs(a - b)
