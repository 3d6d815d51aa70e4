"""Safe expressions for conditions and filters, evaluated with simpleeval.

Allowed: literals, comparisons, boolean logic, arithmetic, ``in``, indexing, ``x if c else y``,
dotted access *into dicts* (``steps.fetch.output.status_code``) and calls of the functions in
``FUNCTIONS``. Refused: attribute access on anything that is not a dict (so no ``"".__class__``
or ``x.format``), names outside the scope, imports, lambdas, and calls of anything else.
simpleeval also caps exponents, string sizes and comprehension lengths.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from simpleeval import (
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    InvalidExpression,
    NameNotDefined,
)

from flowdesk.model.errors import ExpressionError

__all__ = ["FUNCTIONS", "check_syntax", "evaluate", "iter_step_references"]


def _contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    return item in container


def _to_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


FUNCTIONS: dict[str, Any] = {
    "len": len,
    "str": _to_str,
    "int": int,
    "float": float,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
    "lower": lambda s: _to_str(s).lower(),
    "upper": lambda s: _to_str(s).upper(),
    "strip": lambda s: _to_str(s).strip(),
    "contains": _contains,
    "startswith": lambda s, p: _to_str(s).startswith(p),
    "endswith": lambda s, p: _to_str(s).endswith(p),
    "keys": lambda d: list(d.keys()),
    "values": lambda d: list(d.values()),
    "get": lambda d, k, default=None: d.get(k, default) if isinstance(d, Mapping) else default,
    "is_null": lambda v: v is None,
    "is_empty": lambda v: v is None or (isinstance(v, str | list | dict) and len(v) == 0),
    "floor": math.floor,
    "ceil": math.ceil,
    "now": lambda: datetime.now(UTC).isoformat(timespec="seconds"),
    "today": lambda: datetime.now(UTC).date().isoformat(),
}

_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False,
              "None": None}


class _Evaluator(EvalWithCompoundTypes):  # type: ignore[misc]
    def _eval_attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise FeatureNotAvailable(f"access to '{node.attr}' is not allowed")
        base = self._eval(node.value)
        if isinstance(base, Mapping):
            if node.attr in base:
                return base[node.attr]
            raise ExpressionError(f"no key '{node.attr}' (keys: {', '.join(map(str, base))})")
        raise FeatureNotAvailable(
            f"attribute access '.{node.attr}' is only allowed on objects, "
            f"not on {type(base).__name__}; use a function such as lower(x)"
        )

    def _eval_call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise FeatureNotAvailable("only the built-in functions can be called")
        return super()._eval_call(node)


def check_syntax(expression: str) -> None:
    """Raise ExpressionError if ``expression`` is not one valid Python expression."""
    try:
        ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {expression!r}: {exc.msg}") from None


def evaluate(expression: str, scope: Mapping[str, Any]) -> Any:
    if not expression.strip():
        raise ExpressionError("the expression is empty")
    check_syntax(expression)
    names = dict(_CONSTANTS)
    names.update(scope)
    evaluator = _Evaluator(names=names, functions=FUNCTIONS)
    try:
        return evaluator.eval(expression.strip())
    except ExpressionError:
        raise
    except NameNotDefined as exc:
        raise ExpressionError(
            f"expression {expression!r}: unknown name '{exc.name}' "
            f"(available: {', '.join(sorted(scope))})"
        ) from None
    except (FeatureNotAvailable, InvalidExpression) as exc:
        raise ExpressionError(f"expression {expression!r} is not allowed: {exc}") from None
    except (KeyError, IndexError) as exc:
        raise ExpressionError(f"expression {expression!r}: missing {exc}") from None
    except Exception as exc:  # arithmetic and type errors of the user's expression
        raise ExpressionError(
            f"expression {expression!r} failed: {type(exc).__name__}: {exc}"
        ) from None


def iter_step_references(expression: str) -> Iterator[str]:
    """Yield the step ids an expression reads through ``steps.<id>`` or ``steps["id"]``."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id != "steps":
                continue
            if isinstance(node, ast.Attribute):
                yield node.attr
            elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                yield node.slice.value
