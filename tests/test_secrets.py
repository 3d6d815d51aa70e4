"""Secrets: set through the CLI from stdin, used by a run, never written anywhere."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.helpers.httpserver import Answer, LoopbackServer

TOKEN = "tok-7f3a9c2e51-SECRET"


def flowdesk(tmp_path: Path, *args: str, stdin: str | None = None):
    env = {**os.environ, "FLOWDESK_DB": str(tmp_path / "f.db"),
           "FLOWDESK_HOME": str(tmp_path / "home"), "FLOWDESK_SECRETS": "file"}
    return subprocess.run([sys.executable, "-m", "flowdesk", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)


def test_secret_set_list_delete(tmp_path: Path) -> None:
    assert flowdesk(tmp_path, "secrets", "set", "API_TOKEN", stdin=TOKEN + "\n").returncode == 0
    cred = json.dumps({"host": "smtp.example.com", "password": "pw-123456"})
    assert flowdesk(tmp_path, "secrets", "set", "SMTP", "--json", stdin=cred).returncode == 0
    listed = flowdesk(tmp_path, "secrets", "list")
    assert listed.stdout.split() == ["API_TOKEN", "SMTP"]
    path = tmp_path / "home" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # readable only by the user
    assert flowdesk(tmp_path, "secrets", "delete", "SMTP").returncode == 0
    assert flowdesk(tmp_path, "secrets", "list").stdout.split() == ["API_TOKEN"]
    missing = flowdesk(tmp_path, "secrets", "delete", "NOPE")
    assert missing.returncode == 2 and "no secret named 'NOPE'" in missing.stderr


def test_a_secret_is_used_but_never_recorded(tmp_path: Path) -> None:
    server = LoopbackServer()
    server.route("/me", Answer(200, {"user": "ada"}))
    server.route("/fail", Answer(400, "bad request"))
    server.start()
    try:
        flowdesk(tmp_path, "secrets", "set", "API_TOKEN", stdin=TOKEN)
        workflow = {"name": "s", "nodes": [
            {"id": "call", "type": "http_request", "data": {"config": {
                "url": f"{server.url}/me",
                "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}}},
            {"id": "echo", "type": "transform",
             "data": {"config": {"output": "token was {{ secrets.API_TOKEN }}"}}},
            {"id": "bad", "type": "http_request", "data": {
                "config": {"url": f"{server.url}/fail?t={{{{ secrets.API_TOKEN }}}}"},
                "continue_on_error": True}}]}
        path = tmp_path / "w.json"
        path.write_text(json.dumps(workflow))
        result = flowdesk(tmp_path, "run", str(path), "--json")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    # "call" and "bad" have no edge between them, so they run side by side: find each by path
    me = [hit for hit in server.hits if hit.path == "/me"]
    assert len(me) == 1 and me[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was used
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    out = json.loads(result.stdout)
    assert out["steps"]["echo"]["output"] == "token was ••••••"
    assert "••••••" in out["steps"]["bad"]["error"]
    for name in ("f.db", "f.db-wal"):
        file = tmp_path / name
        if file.exists():
            assert TOKEN.encode() not in file.read_bytes(), name
    shown = flowdesk(tmp_path, "show", out["id"], "--json", "--events")
    assert TOKEN not in shown.stdout
    assert flowdesk(tmp_path, "import", str(path)).returncode == 0
    exported = flowdesk(tmp_path, "export", "s")
    assert "{{ secrets.API_TOKEN }}" in exported.stdout  # the reference, not the value
    assert TOKEN not in exported.stdout


def test_a_failure_routed_to_the_error_port_carries_its_input_with_secrets_masked(
        tmp_path: Path) -> None:
    server = LoopbackServer()
    server.route("/fail", Answer(400, "bad request"))
    server.start()
    try:
        flowdesk(tmp_path, "secrets", "set", "API_TOKEN", stdin=TOKEN)
        workflow = {"name": "r", "nodes": [
            {"id": "bad", "type": "http_request", "data": {
                "config": {"url": f"{server.url}/fail",
                           "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}},
                "on_error": "error_output"}},
            {"id": "handler", "type": "transform",
             "data": {"config": {"output": "{{ steps.bad.output }}"}}}],
            "edges": [{"id": "e1", "source": "bad", "target": "handler",
                       "sourceHandle": "error"}]}
        path = tmp_path / "w.json"
        path.write_text(json.dumps(workflow))
        result = flowdesk(tmp_path, "run", str(path), "--json")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert server.hits[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was used
    out = json.loads(result.stdout)
    handled = out["steps"]["handler"]["output"]
    assert handled["error"]["type"] == "step" and "400" in handled["error"]["message"]
    assert handled["input"]["headers"] == {"Authorization": "Bearer ••••••"}
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    for name in ("f.db", "f.db-wal"):
        file = tmp_path / name
        if file.exists():
            assert TOKEN.encode() not in file.read_bytes(), name
