"""Hostile and real-world files on the command line: deep or huge JSON, unclosed templates,
database URLs as hosts spell them. Always exit 2 with a message that says what and where,
never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowdesk.dburl import DatabaseUrlError, normalize_url
from flowdesk.engine.validation import validate
from flowdesk.model import Workflow
from flowdesk.model.jsontext import MAX_FILE_BYTES, JsonTextError, parse_json
from flowdesk.steps import default_registry
from tests.test_cli import flowdesk, write

DEEP = "[" * 100_000
DEEP_INSIDE = '{"name": "d", "nodes": [], "description": ' + "[" * 50_000 + "]" * 50_000 + "}"


@pytest.mark.parametrize("command", ["validate", "run", "import"])
def test_deeply_nested_json_exits_2(tmp_path: Path, command: str) -> None:
    for name, text in (("deep.json", DEEP), ("inside.json", DEEP_INSIDE)):
        path = write(tmp_path, name, text)
        result = flowdesk(command, str(path), db=tmp_path / "f.db")
        assert result.returncode == 2, result.stderr
        assert f"{name}: nested more than 200 levels deep" in result.stderr
        assert "Traceback" not in result.stderr


def test_deep_input_and_huge_files_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "w.json", {"name": "w", "nodes": [{"id": "a", "type": "transform"}]})
    result = flowdesk("run", str(path), "--input", DEEP, db=tmp_path / "f.db")
    assert result.returncode == 2
    assert "--input is nested more than 200 levels deep" in result.stderr
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:  # sparse: no disk is used, only the size is huge
        f.truncate(MAX_FILE_BYTES + 1)
    result = flowdesk("validate", str(huge), db=tmp_path / "f.db")
    assert result.returncode == 2
    assert f"huge.json: too large: {MAX_FILE_BYTES + 1:,} bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_json_limits() -> None:
    assert parse_json('{"a": [[1]], "s": "[[[[" }') == {"a": [[1]], "s": "[[[["}
    assert parse_json("[" * 200 + "]" * 200) is not None  # at the limit is fine
    with pytest.raises(JsonTextError, match="nested more than 200 levels deep"):
        parse_json("[" * 201 + "]" * 201)
    with pytest.raises(JsonTextError, match="too large: 11 characters"):
        parse_json('"0123456789"'[:11], max_bytes=10)
    with pytest.raises(JsonTextError, match="not valid JSON: Expecting value at line 1"):
        parse_json("[1,")


def test_an_unclosed_template_is_a_problem_with_its_place(tmp_path: Path) -> None:
    workflow = Workflow.model_validate({"name": "u", "nodes": [
        {"id": "a", "type": "transform",
         "data": {"config": {"output": {"x": "{{ input.x }} and {{ steps.a.output.x"}}}},
        {"id": "code", "type": "inline_code", "data": {"config": {"code": "result = '{{'"}}}]})
    problems = validate(workflow, default_registry())
    assert [(p.node_id, p.field, p.message) for p in problems] == [
        ("a", "output.x", "unclosed template: '{{ steps.a.output.x' has no closing }}")]
    path = write(tmp_path, "u.json", workflow.to_json())
    result = flowdesk("validate", str(path), db=tmp_path / "f.db")
    assert result.returncode == 2
    assert "node 'a', field 'output.x': unclosed template" in result.stderr


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_database_urls_as_hosts_spell_them(tmp_path: Path) -> None:
    if _installed("psycopg"):
        assert normalize_url("postgres://u:p@h/db?sslmode=require") == \
            "postgresql+psycopg://u:p@h/db?sslmode=require"
        assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    else:
        with pytest.raises(DatabaseUrlError, match=r"pip install 'flowdesk\[postgres\]'"):
            normalize_url("postgres://u@h/db")
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    if not _installed("pymysql"):
        with pytest.raises(DatabaseUrlError, match=r"needs the pymysql driver.*pip install"):
            normalize_url("mysql+pymysql://u@h/db")
    for url, message in (("frob://u@h/x", "'frob://' is not a kind of database"),
                         ("oracle+oracledb://u@h/x", "needs the oracledb module")):
        result = flowdesk("runs", "--db", url, db=tmp_path / "f.db")
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    if not _installed("psycopg") and not _installed("psycopg2"):
        result = flowdesk("runs", "--db", "postgres://u@h/db", db=tmp_path / "f.db",
                          env={"PATH": os.environ.get("PATH", "")})
        assert result.returncode == 2
        assert "pip install 'flowdesk[postgres]'" in result.stderr


def test_an_in_memory_sqlite_query_exits_cleanly(tmp_path: Path) -> None:
    step = {"type": "database_query", "data": {"config": {"url": "sqlite:///:memory:"}}}
    nodes = [{"id": "make", **step}, {"id": "read", **step}]
    nodes[0]["data"] = {"config": {"url": "sqlite:///:memory:",
                                   "query": "CREATE TABLE t AS SELECT 41 + 1 AS x"}}
    nodes[1]["data"] = {"config": {"url": "sqlite:///:memory:", "query": "SELECT x FROM t"}}
    path = write(tmp_path, "m.json", {"name": "m", "nodes": nodes, "edges": [
        {"id": "e", "source": "make", "target": "read"}]})
    result = flowdesk("run", str(path), "--json", db=tmp_path / "f.db")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "ProgrammingError" not in result.stderr
    # one in-memory database for the whole process, whichever thread runs the step
    import json

    assert json.loads(result.stdout)["steps"]["read"]["output"]["rows"] == [{"x": 42}]
