"""The JSON text the store keeps (``dump_json``) and the nesting check of ``parse_json``."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import json
import random
import uuid
from typing import Any

import pytest

from flowdesk.model.jsontext import MAX_DEPTH, JsonTextError, _depth_exceeds, dump_json, parse_json

STDLIB = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Ratio(float):  # as numpy's float64 is
    pass


@dataclasses.dataclass
class Point:
    x: int = 1


SAME_AS_STDLIB = [
    None, True, 0, -2**63, 2**64 - 1, 2**70, 1.5, "", "é ✓ \u2028 \x00 \"q\" \\",
    {"a": [1, None, True, {"b": "c"}]}, {1: "int key", None: "none key"}, (1, 2), [],
    collections.OrderedDict(a=1), collections.defaultdict(int, b=2), Colour.RED, Level.HIGH,
    {"when": datetime.datetime(2026, 1, 2, 3, 4, 5)}, datetime.date(2026, 1, 2), uuid.UUID(int=5),
    b"bytes", decimal.Decimal("1.10"), Point(), {"r": Ratio(2.5)}, object,
]


@pytest.mark.parametrize("value", SAME_AS_STDLIB, ids=lambda v: type(v).__name__)
def test_dump_json_writes_what_the_standard_library_writes(value: Any) -> None:
    assert dump_json(value) == STDLIB(value)


@pytest.mark.parametrize("value", [1e16, 1e-7, 1 / 3, 5e-324, 1.7976931348623157e308])
def test_a_float_reads_back_as_the_same_float(value: float) -> None:
    # the exponent may be written differently (1e-7, not 1e-07): the same number
    assert json.loads(dump_json([value])) == [value]


def test_nesting_orjson_refuses_is_written_by_the_standard_library() -> None:
    deep: list[Any] = []
    inner = deep
    for _ in range(300):
        inner.append([])
        inner = inner[0]
    assert dump_json(deep) == "[" * 301 + "]" * 301


def test_a_circular_value_is_named_not_hung_on() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dump_json(loop)


def test_nan_and_infinity_become_null_so_the_text_stays_json() -> None:
    text = dump_json({"a": float("nan"), "b": float("inf"), "c": [float("-inf")]})
    assert json.loads(text) == {"a": None, "b": None, "c": [None]}


def _depth_by_hand(text: str, limit: int) -> bool:
    """The character-by-character scan the fast one replaced."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 7 or roll < 0.3:
        return rng.choice([1, 'a]"[\\', "{", None, "\\\\", "é}"])
    if roll < 0.65:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["k", '"]', "\\[", "{{"]): _random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def test_the_depth_scan_agrees_with_a_scan_by_hand_on_every_valid_text() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        text = json.dumps(_random_value(rng), ensure_ascii=rng.random() < 0.5)
        for limit in range(0, 9):
            assert _depth_exceeds(text, limit) == _depth_by_hand(text, limit), (text, limit)


def test_brackets_inside_strings_do_not_count_toward_the_depth() -> None:
    text = json.dumps({"a": "[" * 500, "b": "\\\"" + "{" * 500})
    assert parse_json(text)["a"] == "[" * 500
    with pytest.raises(JsonTextError, match=f"nested more than {MAX_DEPTH} levels"):
        parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
