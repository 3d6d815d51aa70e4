"""The import arrows of DESIGN.md / STYLE.md, checked by scanning every module's imports.

Every import counts: at module level, inside functions and under ``if TYPE_CHECKING:``;
relative imports are resolved. Besides the arrows between layers, no two flowdesk modules
may import each other, directly or through others (no import cycles).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "flowdesk"
QT = {"PySide6", "qasync"}
ENTRY = {"flowdesk.cli", "flowdesk.app"}

# layer -> modules it must never import (a name and everything under it)
FORBIDDEN = {
    # the model imports nothing of ours but the model
    "model": {*QT, "sqlalchemy", "alembic", "httpx", "flowdesk"},
    "engine": {*QT, "sqlalchemy", "alembic", "flowdesk.steps", "flowdesk.store",
               "flowdesk.secrets", "flowdesk.document", "flowdesk.ui", *ENTRY},
    "steps": {*QT, "sqlalchemy.orm", "alembic", "flowdesk.store", "flowdesk.document",
              "flowdesk.ui", *ENTRY},
    # the store implements the engine's protocols (engine/persistence.py) and knows
    # nothing else of the engine
    "store": {*QT, "flowdesk.engine", "flowdesk.steps", "flowdesk.document", "flowdesk.ui",
              *ENTRY},
    "document": {"flowdesk.ui", "sqlalchemy", "PySide6.QtWidgets", *ENTRY},
    "ui": {"sqlalchemy", "alembic", "flowdesk.store.tables", *ENTRY},
    # file importers (n8n): pure conversion of JSON into the model
    "importers": {*QT, "sqlalchemy", "alembic", "httpx", "flowdesk.engine", "flowdesk.steps",
                  "flowdesk.store", "flowdesk.document", "flowdesk.ui", *ENTRY},
}
# exceptions to FORBIDDEN: layer -> modules it may import after all
ALLOWED = {
    "model": {"flowdesk.model"},
    "store": {"flowdesk.engine.persistence"},
}
SESSION_CALLS = {"Session", "sessionmaker", "connect", "begin"}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every name a module imports, absolute: ``from a.b import c`` gives ``a.b`` and
    ``a.b.c`` (c may be a module)."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def _matches(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    bad = []
    for path in modules(layer):
        for name in sorted(imports_of(path)):
            if _matches(name, FORBIDDEN[layer]) and not _matches(name, ALLOWED.get(layer, set())):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert bad == []


def import_graph() -> nx.DiGraph:
    """flowdesk module -> the flowdesk modules it imports (a name that is not a module
    stands for the module that defines it)."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in paths.items():
        graph.add_node(name)
        for target in imports_of(path):
            while target and target not in paths:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph.add_edge(name, target)
    return graph


def test_no_import_cycles() -> None:
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph()))
    assert cycles == []


def test_only_entry_points_import_the_cli_and_the_app() -> None:
    graph = import_graph()
    bad = [f"{source} imports {target}" for source, target in graph.edges
           if _matches(target, ENTRY) and not _matches(source, {*ENTRY, "flowdesk.__main__"})]
    assert bad == []


def test_the_scan_sees_type_checking_function_level_and_relative_imports(
        tmp_path: Path) -> None:
    # the scanner itself: imports hidden in these places are still imports
    module = PACKAGE / "engine" / "executor.py"
    assert "flowdesk.engine.runstate" in imports_of(module)
    source = tmp_path / "flowdesk" / "engine" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from flowdesk.steps import default_registry\n"
                      "def f():\n    import flowdesk.secrets\n"
                      "from . import graph\nfrom ..store import Store\n")
    found = imports_of(source, tmp_path / "flowdesk")
    assert {"flowdesk.steps", "flowdesk.secrets", "flowdesk.engine.graph",
            "flowdesk.store.Store"} <= found


# database_query connects to the user's own databases (any SQLAlchemy URL), never to
# flowdesk's store; it may not import flowdesk.store (checked above)
USER_DATABASES = {"steps/database_query.py"}


def test_only_the_store_opens_database_sessions() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if "store" in relative.parts or relative.as_posix() in USER_DATABASES:
            continue
        if any(n == "sqlalchemy" or n.startswith("sqlalchemy.") for n in imports_of(path)):
            bad.append(str(path.relative_to(PACKAGE.parent)))
    assert bad == []


def test_the_cli_path_imports_no_qt_and_no_unused_step_types(tmp_path: Path) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['flowdesk', 'validate', sys.argv[1]]\n"
        "from flowdesk.cli import main\n"
        "main()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'qasync', 'httpx'))\n"
        "       or m in ('flowdesk.steps.http_request', 'flowdesk.steps.inline_code')]\n"
        "print('LOADED:' + ','.join(bad))\n"
    )
    wf = tmp_path / "w.json"
    wf.write_text('{"name": "w", "nodes": [{"id": "a", "type": "transform"}]}')
    result = subprocess.run([sys.executable, "-c", code, str(wf)], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "LOADED:"
