"""n8n conditions (IF, Filter, Switch rules) → one flowdesk condition expression.

Two shapes exist: IF/Switch v1-style ``{string: [{value1, operation, value2}], number: [...],
boolean: [...]}`` with ``combineOperation`` ``all``/``any``, and the v2+ filter shape
``{conditions: [{leftValue, rightValue, operator: {type, operation}}], combinator,
options: {caseSensitive}}``. ``Operand`` turns a side into expression text (the caller
translates n8n expressions); an operation flowdesk has no function for raises
``Untranslatable``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from flowdesk.importers.n8n_expr import Untranslatable

__all__ = ["Operand", "conditions_expression"]

# (value, type hint, missing_ok) -> flowdesk expression text
Operand = Callable[[Any, str, bool], str]

_V1_OPS = {  # v1 operation -> v2 operation
    "equal": "equals", "notEqual": "notEquals", "smaller": "lt", "smallerEqual": "lte",
    "larger": "gt", "largerEqual": "gte", "isEmpty": "empty", "isNotEmpty": "notEmpty",
    "contains": "contains", "notContains": "notContains", "startsWith": "startsWith",
    "endsWith": "endsWith", "notStartsWith": "notStartsWith", "notEndsWith": "notEndsWith",
    "regex": "regex", "notRegex": "notRegex", "after": "after", "before": "before",
}
_COMPARE = {"equals": "==", "notEquals": "!=", "gt": ">", "lt": "<", "gte": ">=", "lte": "<=",
            "after": ">", "before": "<", "afterOrEquals": ">=", "beforeOrEquals": "<="}
_FUNC = {"contains": "contains({l}, {r})", "notContains": "not contains({l}, {r})",
         "startsWith": "startswith({l}, {r})", "notStartsWith": "not startswith({l}, {r})",
         "endsWith": "endswith({l}, {r})", "notEndsWith": "not endswith({l}, {r})",
         "empty": "is_empty({l})", "notEmpty": "not is_empty({l})",
         "exists": "not is_null({l})", "notExists": "is_null({l})",
         "true": "{l} == true", "false": "{l} == false",
         "lengthEquals": "len({l}) == {r}", "lengthNotEquals": "len({l}) != {r}",
         "lengthGt": "len({l}) > {r}", "lengthLt": "len({l}) < {r}",
         "lengthGte": "len({l}) >= {r}", "lengthLte": "len({l}) <= {r}"}
_UNARY = {"empty", "notEmpty", "exists", "notExists", "true", "false"}


def _one(left: Any, right: Any, kind: str, operation: str, operand: Operand,
         case_sensitive: bool) -> str:
    if operation in ("regex", "notRegex"):
        raise Untranslatable(f"the '{operation}' operation (regular expressions) has no "
                             "flowdesk function; rewrite it with contains/startswith")
    if kind == "dateTime" or operation in ("after", "before"):
        raise Untranslatable("date comparisons are not translated (flowdesk compares ISO "
                             "text: rewrite as a comparison of ISO strings if that fits)")
    hint = "string" if kind in ("string", "") else kind
    lpy = operand(left, hint, operation in _UNARY)
    rpy = "" if operation in _UNARY else operand(right, hint, False)
    if hint == "string" and not case_sensitive and operation not in _UNARY:
        lpy, rpy = f"lower({lpy})", f"lower({rpy})"
    if operation in _COMPARE:
        return f"{lpy} {_COMPARE[operation]} {rpy}"
    if operation in _FUNC:
        return _FUNC[operation].format(l=lpy, r=rpy)
    raise Untranslatable(f"the n8n operation '{kind}: {operation}' is not translated")


def conditions_expression(conditions: Any, operand: Operand, combine: str = "and",
                          case_sensitive: bool = True) -> tuple[str, list[str]]:
    """The expression for an n8n conditions block and the parts that were left out."""
    parts: list[str] = []
    skipped: list[str] = []
    if not isinstance(conditions, Mapping):
        return "true", ["no conditions found; the condition is always true"]
    if isinstance(conditions.get("conditions"), list):  # v2 filter shape
        options = conditions.get("options") or {}
        case_sensitive = bool(options.get("caseSensitive", case_sensitive))
        combine = "or" if conditions.get("combinator") == "or" else "and"
        for cond in conditions["conditions"]:
            op = cond.get("operator") or {}
            try:
                parts.append(_one(cond.get("leftValue", ""), cond.get("rightValue", ""),
                                  str(op.get("type", "string")), str(op.get("operation",
                                                                            "equals")),
                                  operand, case_sensitive))
            except Untranslatable as exc:
                skipped.append(f"{json.dumps(cond.get('leftValue'))} "
                               f"{op.get('operation')} {json.dumps(cond.get('rightValue'))}: "
                               f"{exc}")
    else:  # v1 shape
        for kind in ("string", "number", "boolean", "dateTime"):
            for cond in conditions.get(kind) or []:
                operation = str(cond.get("operation", "equal"))
                try:
                    parts.append(_one(cond.get("value1", ""), cond.get("value2", ""), kind,
                                      _V1_OPS.get(operation, operation), operand, True))
                except Untranslatable as exc:
                    skipped.append(f"{kind} {json.dumps(cond.get('value1'))} {operation} "
                                   f"{json.dumps(cond.get('value2'))}: {exc}")
    if not parts:
        return ("false" if skipped else "true"), skipped
    if len(parts) == 1:
        return parts[0], skipped
    return f" {combine} ".join(f"({p})" for p in parts), skipped
