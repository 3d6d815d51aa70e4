"""Models built from values flowdesk itself made, on the engine's hot path.

pydantic's ``model_construct`` skips validation but still walks every field (aliases,
defaults, extras) in Python: ≈5 µs a model here, and a run builds several per step (its
events; at the end, a snapshot of every step). ``trusted`` builds the same object — the same
``__dict__``, fields-set, extras and private state as ``model_construct`` with every field
given — in ≈1 µs. When a field is missing it falls back to ``model_construct``, which fills
the defaults. tests/model/test_trusted.py holds the two equal, so a pydantic release that
changes a model's inner slots fails a test instead of building a wrong object.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["collector_paused", "trusted"]

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__
_fields: dict[type[BaseModel], set[str] | None] = {}


def _plain_fields(cls: type[BaseModel]) -> set[str] | None:
    """The field names of ``cls``, or None when it needs ``model_construct`` (extras
    allowed, private attributes, a post-init hook or a root model)."""
    if cls not in _fields:
        plain = (cls.model_config.get("extra") != "allow" and not cls.__private_attributes__
                 and cls.__pydantic_post_init__ is None and not cls.__pydantic_root_model__)
        _fields[cls] = set(cls.model_fields) if plain else None
    return _fields[cls]


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """``cls.model_construct(**values)``, faster when ``values`` names every field (by field
    name) of a plain model. ``values`` becomes the model's ``__dict__``: do not reuse it.
    Its ``model_fields_set`` is shared with the other models built so: read it, do not
    change it."""
    names = _plain_fields(cls)
    if names is None or len(names) != len(values) or not values.keys() <= names:
        return cls.model_construct(**values)
    model = _new(cls)
    _set(model, "__dict__", values)
    # every field is set, so every such model of ``cls`` shares one set of all its names:
    # pydantic only ever adds a field's name to it (on assignment), which it holds already,
    # and copies it for model_copy. A set per model was the largest part of a snapshot's
    # memory (≈0.7 KB of ≈1.3 KB per step).
    _set(model, "__pydantic_fields_set__", names)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


@contextmanager
def collector_paused() -> Iterator[None]:
    """Build many objects at once (a snapshot of every step of a run) without the cyclic
    garbage collector: they hold no cycles, and the collections their allocations trigger
    walk every object alive, for nothing (half of a 10,000-step snapshot's time). The
    collector is on again afterwards if it was on before."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
