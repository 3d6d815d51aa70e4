"""The function registry behind the ``function_call`` step.

Functions come from three places: the ``@function`` decorator (in any module that is
imported), the ``flowdesk.functions`` entry-point group of installed packages, and ``*.py``
files in the user's plugin folder. A function may be sync (run in a worker thread so it cannot
block the engine) or async.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["FunctionRegistry", "default_functions", "function"]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_DECORATED: dict[str, Callable[..., Any]] = {}


def function(name: str | None = None) -> Callable[[F], F]:
    """Register a callable for ``function_call`` steps: ``@function("crm.lookup")``."""

    def decorate(fn: F) -> F:
        _DECORATED[name or fn.__name__] = fn
        return fn

    return decorate


class FunctionRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Any]] = {}
        self.load_errors: list[str] = []

    def register(self, name: str, fn: Callable[..., Any]) -> None:
        self._functions[name] = fn

    def names(self) -> list[str]:
        return sorted({*self._functions, *_DECORATED})

    def get(self, name: str) -> Callable[..., Any] | None:
        return self._functions.get(name) or _DECORATED.get(name)

    def describe(self, name: str) -> str:
        fn = self.get(name)
        if fn is None:
            return ""
        return f"{name}{inspect.signature(fn)}"

    def load_entry_points(self) -> None:
        for ep in entry_points(group="flowdesk.functions"):
            try:
                ep.load()  # importing the module runs its @function decorators
            except Exception as exc:
                self.load_errors.append(f"entry point {ep.name} ({ep.value}): {exc}")
                log.warning("cannot load flowdesk.functions entry point %s: %s", ep.name, exc)

    def load_plugin_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            module_name = f"flowdesk_plugin_{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                if spec is None or spec.loader is None:
                    raise ImportError("not a Python module")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception as exc:
                self.load_errors.append(f"plugin {path}: {type(exc).__name__}: {exc}")
                log.warning("cannot load plugin %s: %s", path, exc)


def default_functions(plugin_folder: Path | None = None) -> FunctionRegistry:
    registry = FunctionRegistry()
    registry.load_entry_points()
    if plugin_folder is not None:
        registry.load_plugin_folder(plugin_folder)
    return registry
