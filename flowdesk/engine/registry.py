"""Step types and the registry that maps a node's ``type`` to one.

A step module builds one ``StepType``: its pydantic config model, its async handler and its
catalog entry (what the palette shows). Registries can hold step types lazily by module path,
so the command line imports only the step modules a workflow uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from flowdesk.model.errors import UnknownStepType

__all__ = ["CatalogEntry", "Handler", "Resume", "StepRegistry", "StepType"]

# (config, StepContext) -> output. The context is typed where a handler is written (each step
# module annotates ``ctx: StepContext``), not here: StepContext holds the services, which hold
# this registry, so naming it here would be an import cycle.
Handler = Callable[[Any, Any], Awaitable[Any]]
# (config, decision, StepContext) -> output
Resume = Callable[[Any, Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class CatalogEntry:
    """What the palette and the inspector know of a step type."""

    type: str
    label: str
    category: str
    description: str
    icon: str
    ports: tuple[str, ...] = ()  # named output ports of a branching step; () = one output
    trigger: bool = False  # a trigger starts a run and takes no incoming edge
    outputs: tuple[str, ...] = ()  # known output fields, for template autocompletion


@dataclass(frozen=True)
class StepType:
    catalog: CatalogEntry
    config_model: type[BaseModel]
    handler: Handler
    # fields the engine must not render before the handler runs (code, expressions, specs)
    raw_fields: frozenset[str] = frozenset()
    # fields that hold an expression: syntax-checked and scanned for step references
    expression_fields: frozenset[str] = frozenset()
    # fields whose templates may use ``item``/``index`` (the per-item spec of for_each)
    item_scope_fields: frozenset[str] = frozenset()
    # which output port a completed step took, for branching steps
    branch: Callable[[Any], str] | None = None
    # called with the decision when a waiting step is resumed (approvals, events)
    resume: Resume | None = None
    # a pure step does no I/O and never awaits: the engine may run it inline, without a
    # task, batching a run of such steps into one transaction
    pure: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.catalog.type


class StepRegistry:
    def __init__(self, types: Iterable[StepType] = ()) -> None:
        self._types: dict[str, StepType] = {}
        self._lazy: dict[str, str] = {}
        for step_type in types:
            self.register(step_type)

    def register(self, step_type: StepType) -> None:
        self._types[step_type.name] = step_type
        self._lazy.pop(step_type.name, None)

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``name`` as ``"package.module:ATTRIBUTE"``, imported on first use."""
        if name not in self._types:
            self._lazy[name] = target

    def __contains__(self, name: object) -> bool:
        return name in self._types or name in self._lazy

    def names(self) -> list[str]:
        return sorted({*self._types, *self._lazy})

    def get(self, name: str) -> StepType:
        step_type = self._types.get(name)
        if step_type is not None:
            return step_type
        target = self._lazy.get(name)
        if target is None:
            raise UnknownStepType(name, self.names())
        module_name, _, attr = target.partition(":")
        step_type = getattr(importlib.import_module(module_name), attr)
        if not isinstance(step_type, StepType):
            raise TypeError(f"{target} is not a StepType")
        self.register(step_type)
        return step_type

    def catalog(self) -> list[CatalogEntry]:
        return [self.get(name).catalog for name in self.names()]
