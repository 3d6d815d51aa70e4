"""n8n expressions → flowdesk templates and expressions.

An n8n parameter string that starts with ``=`` is an expression: text with ``{{ js }}``
segments. Each segment is parsed as a small JavaScript subset (literals, member access,
calls of well-known methods, arithmetic, comparison, ``&&``/``||``/``!``/``?:``/``??``) and
written back as a flowdesk expression; item references (``$json``, ``$input.item.json``,
``$('Name').item.json``, ``$node["Name"].json``...) are turned into scope paths by the
caller's ``Resolver``. What cannot be said raises ``Untranslatable`` with the reason; the
caller keeps the original text and reports it — nothing is dropped silently.

Output of a segment: a plain path becomes ``{{ path }}`` (the value keeps its type), anything
else ``{{= expression }}`` (flowdesk's expression templates).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Expr", "PathPart", "Resolver", "Untranslatable", "lenient", "py_path",
           "translate_js", "translate_value"]

PathPart = str | int
# (kind, node name or None) -> scope path; kind is "json" ($json / $input) or "node"
Resolver = Callable[[str, "str | None"], list[PathPart]]


class Untranslatable(ValueError):
    """This n8n expression has no flowdesk equivalent (the message says which part)."""


@dataclass
class Expr:
    py: str  # a flowdesk expression
    path: list[PathPart] | None = None  # set when the expression is exactly a scope path
    is_str: bool = False  # known to give a string (for JS `+` on strings)


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<tpl>`(?:[^`\\]|\\.)*`)
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||\?\?|\?\.|[-+*/%<>!?:.,()\[\]])
""", re.VERBOSE)

_METHODS_1 = {"toLowerCase": "lower", "toUpperCase": "upper", "trim": "strip",
              "toString": "str", "keys": "keys", "values": "values"}
_METHODS_2 = {"includes": "contains", "startsWith": "startswith", "endsWith": "endswith"}
_GLOBALS = {"parseInt": "int", "parseFloat": "float", "Number": "float", "String": "str",
            "Boolean": "bool", "Math.round": "round", "Math.floor": "floor",
            "Math.ceil": "ceil", "Math.abs": "abs", "Math.max": "max", "Math.min": "min",
            "Object.keys": "keys", "Object.values": "values"}
_BINARY = [("??",), ("||",), ("&&",), ("===", "!==", "==", "!="), ("<", ">", "<=", ">="),
           ("+", "-"), ("*", "/", "%")]
_PY_OP = {"===": "==", "!==": "!=", "&&": "and", "||": "or"}


def py_path(parts: list[PathPart]) -> str:
    """A scope path as expression text: ``steps.a.output["odd key"][0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_]\w*", part) and not keyword.iskeyword(part) and out:
            out += f".{part}"
        elif not out:
            out = part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def lenient(expr: Expr) -> str:
    """A path whose last key may be missing, read as null instead of an error (for
    exists/empty checks and ``??``)."""
    path = expr.path
    if path is None or len(path) < 2 or not isinstance(path[-1], str):
        return expr.py
    return f"get({py_path(path[:-1])}, {json.dumps(path[-1])})"


def _lit(value: Any) -> Expr:
    if isinstance(value, str):
        return Expr(json.dumps(value, ensure_ascii=False), is_str=True)
    if value is None:
        return Expr("null")
    if isinstance(value, bool):
        return Expr("true" if value else "false")
    return Expr(repr(value))


class _Parser:
    def __init__(self, text: str, resolve: Resolver) -> None:
        self.text = text
        self.resolve = resolve
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise Untranslatable(f"the JavaScript {text[pos:pos + 12]!r} has no flowdesk "
                                     "equivalent")
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group()))
            pos = m.end()
        self.i = 0

    # -- token helpers ------------------------------------------------------------------------
    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.tokens[j][1] if j < len(self.tokens) else ""

    def kind(self) -> str:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if expected is not None and tok != expected:
            raise Untranslatable(f"expected {expected!r}, found {tok or 'the end'!r}")
        self.i += 1
        return tok

    def parse(self) -> Expr:
        expr = self.ternary()
        if self.i != len(self.tokens):
            raise Untranslatable(f"cannot translate from {self.peek()!r}")
        return expr

    # -- grammar ------------------------------------------------------------------------------
    def ternary(self) -> Expr:
        cond = self.binary(0)
        if self.peek() != "?":
            return cond
        self.take("?")
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        return Expr(f"({yes.py} if {cond.py} else {no.py})", is_str=yes.is_str and no.is_str)

    def binary(self, level: int) -> Expr:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _BINARY[level] and self.kind() == "op":
            op = self.take()
            right = self.binary(level + 1)
            left = self._combine(op, left, right)
        return left

    def _combine(self, op: str, left: Expr, right: Expr) -> Expr:
        if op == "??":
            return Expr(f"({right.py} if is_null({lenient(left)}) else {left.py})")
        if op == "+" and (left.is_str or right.is_str):
            lpy = left.py if left.is_str else f"str({left.py})"
            rpy = right.py if right.is_str else f"str({right.py})"
            return Expr(f"({lpy} + {rpy})", is_str=True)
        return Expr(f"({left.py} {_PY_OP.get(op, op)} {right.py})")

    def unary(self) -> Expr:
        if self.peek() == "!" and self.kind() == "op":
            self.take()
            return Expr(f"(not {self.unary().py})")
        if self.peek() == "-" and self.kind() == "op":
            self.take()
            return Expr(f"(-{self.unary().py})")
        return self.postfix(self.primary())

    def primary(self) -> Expr:
        kind, tok = (self.tokens[self.i] if self.i < len(self.tokens) else ("", ""))
        if not tok:
            raise Untranslatable("the expression ends too early")
        self.i += 1
        if kind == "num":
            return Expr(tok)
        if kind == "str":
            return _lit(json.loads('"' + tok[1:-1].replace('\\\'', "'").replace('"', '\\"')
                                   + '"') if tok[0] == "'" else json.loads(tok))
        if kind == "tpl":
            return self._template_literal(tok[1:-1])
        if tok == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if tok == "[":
            items = self._args("]")
            return Expr("[" + ", ".join(e.py for e in items) + "]")
        if kind == "name":
            return self._name(tok)
        raise Untranslatable(f"unexpected {tok!r}")

    def _template_literal(self, body: str) -> Expr:
        pieces: list[str] = []
        for i, chunk in enumerate(re.split(r"\$\{(.*?)\}", body)):
            if i % 2:
                sub = _Parser(chunk, self.resolve).parse()
                pieces.append(sub.py if sub.is_str else f"str({sub.py})")
            elif chunk:
                pieces.append(json.dumps(chunk, ensure_ascii=False))
        return Expr("(" + " + ".join(pieces or ['""']) + ")", is_str=True)

    def _args(self, close: str) -> list[Expr]:
        args: list[Expr] = []
        while self.peek() != close:
            args.append(self.ternary())
            if self.peek() != close:
                self.take(",")
        self.take(close)
        return args

    def _name(self, name: str) -> Expr:
        if name in ("true", "false", "null", "undefined"):
            return Expr("null" if name == "undefined" else name)
        if name == "$json":
            return self._ref(self.resolve("json", None))
        if name == "$input":
            self._item_accessor("$input")
            self.take(".")
            self._expect_name("json")
            return self._ref(self.resolve("json", None))
        if name == "$":
            self.take("(")
            target = self._string_arg()
            self.take(")")
            return self._node_ref(target)
        if name == "$node":
            if self.peek() == "[":
                self.take("[")
                target = self._string_arg()
                self.take("]")
            else:
                self.take(".")
                target = self.take()
            return self._node_ref(target, accessor=False)
        if name == "$env" and self.peek() in (".", "["):
            # n8n's environment variables are what flowdesk keeps as secrets
            if self.take() == ".":
                key = self.take()
            else:
                key = self._string_arg()
                self.take("]")
            return self._ref(["secrets", key])
        if name in ("$now", "$today"):
            # a Luxon DateTime in n8n; flowdesk's now()/today() give ISO 8601 text
            if self.peek() == "." and self.peek(1) in ("toISO", "toString", "toISODate"):
                self.i += 2
                self.take("(")
                self.take(")")
            elif self.peek() in (".", "?."):
                raise Untranslatable(f"{name}.{self.peek(1)} (Luxon date methods) has no "
                                     "flowdesk equivalent")
            return Expr("now()" if name == "$now" else "today()", is_str=True)
        if name in ("$execution", "$workflow") and self.peek() == ".":
            self.take(".")
            field = self.take()
            mapped = {("$execution", "id"): ["run", "id"],
                      ("$workflow", "name"): ["run", "workflow"]}.get((name, field))
            if mapped is None:
                raise Untranslatable(f"{name}.{field} has no flowdesk equivalent")
            return self._ref(list(mapped))
        if name in ("Math", "Object") and self.peek() == ".":
            self.take(".")
            name = f"{name}.{self.take()}"
        if name in _GLOBALS and self.peek() == "(":
            self.take("(")
            args = self._args(")")
            fn = _GLOBALS[name]
            return Expr(f"{fn}({', '.join(a.py for a in args)})", is_str=fn == "str")
        raise Untranslatable(f"'{name}' has no flowdesk equivalent")

    def _expect_name(self, name: str) -> None:
        tok = self.take()
        if tok != name:
            raise Untranslatable(f"expected '.{name}', found {tok!r}")

    def _string_arg(self) -> str:
        kind, tok = self.tokens[self.i] if self.i < len(self.tokens) else ("", "")
        if kind != "str":
            raise Untranslatable("a node must be named by a quoted string")
        self.i += 1
        value = json.loads(tok) if tok[0] == '"' else tok[1:-1].replace("\\'", "'")
        return str(value)

    def _item_accessor(self, what: str) -> None:
        """``.item``, ``.first()``, ``.last()``, ``.all()[0]``, ``.itemMatching(n)``; flowdesk
        steps have one output, so each of these is that output (``last``/``all()[n>0]`` are
        refused: they would mean another item)."""
        self.take(".")
        acc = self.take()
        if acc == "item":
            return
        if acc in ("first", "last", "itemMatching"):
            self.take("(")
            args = self._args(")")
            if acc == "last" or (acc == "itemMatching" and args and args[0].py != "0"):
                raise Untranslatable(f"{what}.{acc}() picks another item than the first; "
                                     "flowdesk steps have one output")
            return
        if acc == "all":
            self.take("(")
            self.take(")")
            if self.peek() == "[" and self.peek(1) == "0" and self.peek(2) == "]":
                self.i += 3
                return
            raise Untranslatable(f"{what}.all() is a list of items; flowdesk steps have "
                                 "one output (use a for_each step)")
        raise Untranslatable(f"{what}.{acc} has no flowdesk equivalent")

    def _node_ref(self, target: str, accessor: bool = True) -> Expr:
        if accessor:
            self._item_accessor(f"$('{target}')")
        if self.peek() == "." and self.peek(1) in ("json", "item", "first", "last", "all") \
                and not accessor and self.peek(1) != "json":
            self._item_accessor(f"$node['{target}']")
        self.take(".")
        self._expect_name("json")
        return self._ref(self.resolve("node", target))

    def _ref(self, root: list[PathPart]) -> Expr:
        path = list(root)
        while True:
            tok = self.peek()
            if tok in (".", "?.") and self.kind() == "op":
                if self.peek(1) in _METHODS_1 or self.peek(1) in _METHODS_2 \
                        or self.peek(1) == "length":
                    break
                self.take()
                path.append(self.take())
            elif tok == "[":
                kind = self.tokens[self.i + 1][0] if self.i + 1 < len(self.tokens) else ""
                close = self.peek(2)
                if kind not in ("num", "str") or close != "]":
                    raise Untranslatable("a computed index is not supported in a path")
                raw = self.peek(1)
                self.i += 3
                path.append(int(raw) if kind == "num" else
                            (json.loads(raw) if raw[0] == '"' else raw[1:-1]))
            else:
                break
        return Expr(py_path(path), path=path)

    def postfix(self, expr: Expr) -> Expr:
        while self.peek() in (".", "?.", "[") and self.kind() == "op":
            if self.peek() == "[":
                self.take("[")
                index = self.ternary()
                self.take("]")
                expr = Expr(f"{expr.py}[{index.py}]")
                continue
            self.take()
            member = self.take()
            if member == "length":
                expr = Expr(f"len({expr.py})")
            elif member in _METHODS_1:
                self.take("(")
                self.take(")")
                fn = _METHODS_1[member]
                expr = Expr(f"{fn}({expr.py})", is_str=fn in ("lower", "upper", "strip", "str"))
            elif member in _METHODS_2:
                self.take("(")
                args = self._args(")")
                if len(args) != 1:
                    raise Untranslatable(f".{member}() with {len(args)} arguments")
                expr = Expr(f"{_METHODS_2[member]}({expr.py}, {args[0].py})")
            else:
                raise Untranslatable(f".{member} has no flowdesk equivalent")
        return expr


def translate_js(js: str, resolve: Resolver) -> Expr:
    """One ``{{ }}`` segment's JavaScript as a flowdesk expression; raises Untranslatable."""
    if not js.strip():
        raise Untranslatable("empty expression")
    return _Parser(js.strip(), resolve).parse()


_SEGMENT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def translate_value(value: str, resolve: Resolver) -> tuple[Any, list[str]]:
    """An n8n parameter string as a flowdesk config value, and what could not be translated.

    A string without a leading ``=`` is a literal. An untranslatable segment is kept as its
    original text inside ``«»`` (so the value shows what it was) and reported.
    """
    if not value.startswith("="):
        return value, []
    body = value[1:]
    problems: list[str] = []
    segments = list(_SEGMENT.finditer(body))
    if not segments:
        return body, []
    out: list[str] = []
    pos = 0
    for m in segments:
        out.append(body[pos:m.start()])
        pos = m.end()
        try:
            expr = translate_js(m.group(1), resolve)
        except Untranslatable as exc:
            problems.append(f"expression {m.group(0).strip()!r} kept as text: {exc}")
            out.append("«" + m.group(1).strip() + "»")
            continue
        out.append("{{ " + py_path(expr.path) + " }}" if expr.path is not None
                   else "{{= " + expr.py + " }}")
    out.append(body[pos:])
    return "".join(out), problems
