"""The import arrows of DESIGN.md / STYLE.md, checked by scanning every module's imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "flowdesk"

# layer -> top-level modules it must never import
FORBIDDEN = {
    "model": {"PySide6", "qasync", "sqlalchemy", "alembic", "httpx", "flowdesk.engine",
              "flowdesk.steps", "flowdesk.store", "flowdesk.document", "flowdesk.ui"},
    "engine": {"PySide6", "qasync", "sqlalchemy", "alembic", "flowdesk.store",
               "flowdesk.document", "flowdesk.ui", "flowdesk.cli", "flowdesk.app"},
    "steps": {"PySide6", "qasync", "sqlalchemy.orm", "alembic", "flowdesk.store",
              "flowdesk.document", "flowdesk.ui", "flowdesk.cli", "flowdesk.app"},
    "store": {"PySide6", "qasync", "flowdesk.engine", "flowdesk.steps", "flowdesk.document",
              "flowdesk.ui", "flowdesk.cli", "flowdesk.app"},
    "document": {"flowdesk.ui", "sqlalchemy", "PySide6.QtWidgets"},
    "ui": {"sqlalchemy", "alembic", "flowdesk.store.tables"},
    # file importers (n8n): pure conversion of JSON into the model
    "importers": {"PySide6", "qasync", "sqlalchemy", "alembic", "httpx", "flowdesk.engine",
                  "flowdesk.steps", "flowdesk.store", "flowdesk.document", "flowdesk.ui",
                  "flowdesk.cli", "flowdesk.app"},
}
SESSION_CALLS = {"Session", "sessionmaker", "connect", "begin"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    bad = []
    for path in modules(layer):
        for name in imports_of(path):
            for forbidden in FORBIDDEN[layer]:
                if name == forbidden or name.startswith(forbidden + "."):
                    bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert bad == []


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
