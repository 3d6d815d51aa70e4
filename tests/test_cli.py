"""The command line as a user runs it: real subprocesses, real database files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.httpserver import Answer, LoopbackServer

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def flowdesk(*args: str, db: Path, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "FLOWDESK_DB": str(db), **(env or {})}
    return subprocess.run([sys.executable, "-m", "flowdesk", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout)


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


SIMPLE = {"name": "simple", "nodes": [
    {"id": "a", "type": "transform", "data": {"config": {"output": {"v": "{{ input.v }}"}}}},
    {"id": "b", "type": "condition", "data": {"config": {"expression": "steps.a.output.v > 1"}}}],
    "edges": [{"id": "e", "source": "a", "target": "b"}]}


def test_run_completed_json_shape_and_progress(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    result = flowdesk("run", str(write(tmp_path, "w.json", SIMPLE)), "--input", '{"v": 2}',
                      "--json", db=db)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"id", "status", "error", "steps"}
    assert out["status"] == "completed"
    assert out["steps"]["a"] == {"status": "completed", "output": {"v": 2}, "error": None,
                                 "attempts": 1}
    assert "a  completed" in result.stderr
    assert "b  completed" in result.stderr and "→ true" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_failed_exits_1(tmp_path: Path) -> None:
    wf = {"name": "f", "nodes": [{"id": "x", "type": "transform",
                                  "data": {"config": {"output": "{{ input.missing }}"}}}]}
    result = flowdesk("run", str(write(tmp_path, "w.json", wf)), db=tmp_path / "f.db")
    assert result.returncode == 1
    assert "template path 'input.missing' not found" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["run", "{dir}/nope.json"], "nope.json: no such file"),
    (["run", "{dir}/bad.json"], "bad.json: not valid JSON"),
    (["run", "{dir}/w.json", "--input", "[1,"], "--input is not valid JSON"),
    (["run", "{dir}/unknown.json"], "unknown step type 'frobnicate'"),
    (["run", "{dir}/cycle.json"], "cycle: a → b → a"),
    (["run", "no-such-workflow"], "no workflow named 'no-such-workflow'"),
    (["show", "deadbeef"], "no run with id 'deadbeef'"),
    (["validate", "{dir}/cycle.json"], "cycle: a → b → a"),
    (["export", "ghost"], "no workflow named 'ghost'"),
    (["run"], "the following arguments are required"),
    (["frob"], "invalid choice: 'frob'"),
    (["run", "{dir}/schema.json", "--input", '{"n": "x"}'], "input.n: expected integer"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, args: list[str],
                                                message: str) -> None:
    write(tmp_path, "bad.json", "{not json")
    write(tmp_path, "w.json", SIMPLE)
    write(tmp_path, "unknown.json", {"name": "u", "nodes": [{"id": "x", "type": "frobnicate"}]})
    write(tmp_path, "cycle.json", {"name": "c", "nodes": [
        {"id": "a", "type": "transform"}, {"id": "b", "type": "transform"}],
        "edges": [{"id": "1", "source": "a", "target": "b"},
                  {"id": "2", "source": "b", "target": "a"}]})
    write(tmp_path, "schema.json", {"name": "s", "input_schema": {
        "type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}})
    result = flowdesk(*[a.replace("{dir}", str(tmp_path)) for a in args], db=tmp_path / "f.db")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_damaged_database_exits_2_and_keeps_the_file(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"garbage" * 1000)
    result = flowdesk("runs", db=db)
    assert result.returncode == 2
    assert "is not a flowdesk database or is damaged" in result.stderr
    assert db.read_bytes() == b"garbage" * 1000


def test_import_export_runs_show(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    path = write(tmp_path, "w.json", {**SIMPLE, "x-custom": {"kept": True}})
    result = flowdesk("import", str(path), db=db)
    assert result.returncode == 0 and "imported 'simple' (version 1)" in result.stdout
    # an unchanged re-import records no new version (issue 15, item 5)
    assert "kept 'simple' (version 1)" in flowdesk("import", str(path), db=db).stdout
    assert "simple" in flowdesk("workflows", db=db).stdout
    run = flowdesk("run", "simple", "--input", '{"v": 0}', "--json", db=db)
    assert run.returncode == 0
    run_id = json.loads(run.stdout)["id"]
    listing = flowdesk("runs", "--workflow", "simple", db=db).stdout
    assert run_id[:8] in listing and "completed" in listing
    shown = flowdesk("show", run_id[:8], "--events", db=db).stdout
    assert "status    completed" in shown and "run.completed" in shown and "→" not in shown
    exported = flowdesk("export", "simple", db=db)
    data = json.loads(exported.stdout)
    assert data["x-custom"] == {"kept": True} and data["nodes"][0]["id"] == "a"


def test_idempotency_key_on_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    path = str(write(tmp_path, "w.json", SIMPLE))
    first = flowdesk("run", path, "--input", '{"v": 1}', "--idempotency-key", "k1", "--json",
                     db=db)
    second = flowdesk("run", path, "--input", '{"v": 1}', "--idempotency-key", "k1", "--json",
                      db=db)
    assert json.loads(first.stdout)["id"] == json.loads(second.stdout)["id"]
    assert "idempotency key already used" in second.stderr
    assert second.returncode == 0


def test_an_idempotency_key_belongs_to_one_workflow(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    for name in ("A", "B"):
        path = write(tmp_path, f"{name}.json", {**SIMPLE, "name": name})
        assert flowdesk("import", str(path), db=db).returncode == 0
    runs = {name: json.loads(flowdesk("run", name, "--input", '{"v": 1}', "--idempotency-key",
                                      "K1", "--json", db=db).stdout) for name in ("A", "B")}
    assert runs["A"]["id"] != runs["B"]["id"] and runs["B"]["workflow"] == "B"
    again = flowdesk("run", "B", "--input", '{"v": 1}', "--idempotency-key", "K1", "--json",
                     db=db)
    assert json.loads(again.stdout)["id"] == runs["B"]["id"]
    assert "already used by run" in again.stderr and "of 'B'" in again.stderr


def test_steps_lists_the_catalog(tmp_path: Path) -> None:
    out = flowdesk("steps", db=tmp_path / "f.db").stdout
    for name in ("http_request", "inline_code", "for_each", "condition", "webhook"):
        assert name in out


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_every_example_validates_and_runs(tmp_path: Path, path: Path) -> None:
    data = json.loads(path.read_text())
    sample = dict(data.get("sample_input") or {})
    server = LoopbackServer()
    server.route("/json", Answer(200, {"slideshow": {"title": "Sample"}}))
    server.route("/status/503", Answer(503, "unavailable"))
    server.route("/v1/chat/completions", Answer(200, {"model": "stand-in", "choices": [
        {"message": {"role": "assistant", "content": json.dumps(
            {"urgency": "high", "topic": "payments", "summary": "checkout down"})},
         "finish_reason": "stop"}], "usage": {"total_tokens": 9}}))
    server.start()
    try:
        # outside services are replaced by the loopback server, files go under tmp_path
        for key, value in list(sample.items()):
            if isinstance(value, str) and value.startswith("https://httpbin.org"):
                sample[key] = value.replace("https://httpbin.org", server.url)
            if isinstance(value, str) and value.startswith("http://localhost:11434"):
                sample[key] = value.replace("http://localhost:11434", server.url)
            if isinstance(value, str) and value.startswith("sqlite:////tmp/"):
                sample[key] = f"sqlite:///{tmp_path / 'example.db'}"
        db = tmp_path / "f.db"
        assert flowdesk("validate", str(path), db=db).returncode == 0
        result = flowdesk("run", str(path), "--input", json.dumps(sample), "--json", db=db)
        if result.returncode == 3:  # paused: answer what it waits for, as a user would
            out = json.loads(result.stdout)
            for step_id, step in out["steps"].items():
                if step["status"] == "waiting":
                    wait = json.loads(flowdesk("approvals", "--all", "--json", db=db).stdout)
                    kind = next(w for w in wait if w["step_id"] == step_id)
                    if kind["kind"] == "approval":
                        result = flowdesk("approve", out["id"], step_id, "--json", db=db)
                    else:
                        result = flowdesk("send-event", kind["event_name"], "--key",
                                          kind["correlation_key"] or "", "--json", db=db)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "completed"
    statuses = {s["status"] for s in out["steps"].values()}
    assert statuses <= {"completed", "skipped", "failed"}


def test_approval_and_event_round_trip_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    path = EXAMPLES / "approval-gate.json"
    run_input = '{"order_id": "Z-1", "amount": 80, "reason": "broken"}'
    run = flowdesk("run", str(path), "--input", run_input, "--json", db=db)
    assert run.returncode == 3, run.stderr
    run_id = json.loads(run.stdout)["id"]
    listing = flowdesk("approvals", db=db).stdout
    assert "Refund 80 for order Z-1?" in listing and run_id[:8] in listing
    assert "not waiting for an approval" in flowdesk("approve", run_id, "check", db=db).stderr
    approved = flowdesk("approve", run_id[:8], "approve", "--comment", "ok",
                        "--data", '{"ticket": 5}', "--json", db=db)
    assert approved.returncode == 3  # now waiting for the provider's event
    out = json.loads(approved.stdout)
    assert out["steps"]["approve"]["output"]["data"] == {"ticket": 5}
    assert out["steps"]["confirmed"]["status"] == "waiting"
    wrong = flowdesk("send-event", "refund.confirmed", "--key", "OTHER", db=db)
    assert wrong.returncode == 0 and "no run is waiting" in wrong.stderr
    right = flowdesk("send-event", "refund.confirmed", "--key", "Z-1", "--data", '{"id": 9}',
                     "--json", db=db)
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["steps"]["confirmed"]["output"]["data"] == {"id": 9}
    again = flowdesk("approve", run_id, "approve", db=db)
    assert again.returncode == 2 and "is not waiting" in again.stderr


def test_retry_and_rerun_from_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    flag = tmp_path / "fixed"
    wf = {"name": "r", "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": 1}}},
        {"id": "b", "type": "inline_code", "data": {"config": {
            "code": f"import os\nassert os.path.exists({str(flag)!r}), 'not fixed yet'\n"
                    "result = 2"}}}],
        "edges": [{"id": "e", "source": "a", "target": "b"}]}
    first = flowdesk("run", str(write(tmp_path, "w.json", wf)), "--json", db=db)
    assert first.returncode == 1 and "not fixed yet" in first.stderr
    run_id = json.loads(first.stdout)["id"]
    flag.write_text("yes")
    retried = flowdesk("retry", run_id[:8], "--json", db=db)
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["id"] == run_id
    rerun = flowdesk("retry", run_id, "--from", "b", db=db)
    assert rerun.returncode == 0 and "b  completed" in rerun.stderr
    assert "a  started" not in rerun.stderr
    shown = flowdesk("show", run_id, "--events", db=db).stdout
    assert shown.count("run.retried") == 2


def test_resume_with_nothing_to_do_and_prune_and_config(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    result = flowdesk("resume", db=db)
    assert result.returncode == 0 and "nothing to resume" in result.stderr
    assert flowdesk("config", "runs.keep_days", "7", db=db).returncode == 0
    assert flowdesk("config", "runs.keep_days", db=db).stdout.strip() == "7"
    pruned = flowdesk("prune", db=db)
    assert pruned.returncode == 0 and "more than 7 day(s) ago" in pruned.stderr


def test_db_before_the_command_is_used(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    wf = write(tmp_path, "w.json", SIMPLE)
    assert flowdesk("--db", str(other), "import", str(wf), db=tmp_path / "default.db"
                    ).returncode == 0
    listed = flowdesk("--db", str(other), "workflows", "--json", db=tmp_path / "default.db")
    assert [w["name"] for w in json.loads(listed.stdout)] == ["simple"]
    # the default database (FLOWDESK_DB here) was not touched by either command
    default = flowdesk("workflows", "--json", db=tmp_path / "default.db")
    assert json.loads(default.stdout) == []
    # after the command it still works, and wins over the one before
    assert json.loads(flowdesk("--db", str(tmp_path / "x.db"), "workflows", "--db", str(other),
                               "--json", db=tmp_path / "default.db").stdout)[0]["name"] == \
        "simple"


def test_flowdesk_db_url_stays_a_url(tmp_path: Path) -> None:
    """A URL in FLOWDESK_DB reaches the store as a URL: no ./postgresql+psycopg:/ folder."""
    env = {**os.environ, "FLOWDESK_DB": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = subprocess.run([sys.executable, "-m", "flowdesk", "workflows"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_retry_uses_the_saved_workflow_unless_told_original(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    broken = {"name": "Probe", "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": 1}}},
        {"id": "b", "type": "inline_code", "data": {"config": {
            "code": "raise ValueError('still the old code')"}}}],
        "edges": [{"id": "e", "source": "a", "target": "b"}]}
    assert flowdesk("import", str(write(tmp_path, "v1.json", broken)), db=db).returncode == 0
    first = flowdesk("run", "Probe", "--json", db=db)
    assert first.returncode == 1
    run_id = json.loads(first.stdout)["id"]
    fixed = json.loads(json.dumps(broken))
    fixed["nodes"][1]["data"]["config"]["code"] = "result = 2"
    assert flowdesk("import", str(write(tmp_path, "v2.json", fixed)), db=db).returncode == 0
    original = flowdesk("retry", run_id, "--original", db=db)
    assert original.returncode == 1 and "with the original workflow" in original.stderr
    assert "still the old code" in original.stderr
    current = flowdesk("retry", run_id, "--json", db=db)
    assert current.returncode == 0, current.stderr
    assert "with the current workflow (version 2)" in current.stderr
    assert json.loads(current.stdout)["steps"]["b"]["output"]["result"] == 2
    shown = flowdesk("show", run_id, db=db).stdout
    assert "(version 2)" in shown


def test_tokens_are_printed_once_and_stored_hashed(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    made = flowdesk("tokens", "create", "ci-bot", db=db)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("fd_") and "shown only now" in made.stderr
    assert token.encode() not in db.read_bytes()  # only its hash is kept
    assert flowdesk("tokens", "create", "ci-bot", db=db).returncode == 2  # one live per name
    listed = flowdesk("tokens", "list", db=db)
    assert "ci-bot" in listed.stdout and "live" in listed.stdout and token not in listed.stdout
    assert flowdesk("tokens", "revoke", "ci-bot", db=db).returncode == 0
    assert "revoked" in flowdesk("tokens", "list", db=db).stdout
    assert flowdesk("tokens", "revoke", "nobody", db=db).returncode == 2


def test_show_json_holds_the_whole_run(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    ran = flowdesk("run", str(write(tmp_path, "w.json", SIMPLE)), "--input", '{"v": 2}',
                   "--json", db=db)
    run_id = json.loads(ran.stdout)["id"]
    shown = json.loads(flowdesk("show", run_id, "--json", db=db).stdout)
    assert shown["input"] == {"v": 2}
    assert shown["created_at"] and shown["started_at"] and shown["finished_at"]
    assert "workflow_version" in shown
    step = shown["steps"]["a"]
    assert step["input"] is not None and step["output"] == {"v": 2}
    assert step["attempts"] == 1 and len(step["attempt_log"]) == 1


def test_a_failure_routed_to_the_error_port_completes_the_run(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    wf = {"name": "errport", "nodes": [
        {"id": "x", "type": "transform", "data": {"config": {"output": "{{ input.missing }}"},
                                                  "on_error": "error_output"}},
        {"id": "ok", "type": "transform", "data": {"config": {"output": "fine"}}},
        {"id": "oops", "type": "transform",
         "data": {"config": {"output": "{{ steps.x.output.error.type }}"}}}],
        "edges": [{"id": "e1", "source": "x", "target": "ok"},
                  {"id": "e2", "source": "x", "target": "oops", "sourceHandle": "error"}]}
    result = flowdesk("run", str(write(tmp_path, "w.json", wf)), "--json", db=db)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "completed"
    assert out["steps"]["x"]["status"] == "failed"
    assert out["steps"]["ok"]["status"] == "skipped"
    assert out["steps"]["oops"]["output"] == "template"
    assert "input.missing" in out["steps"]["x"]["output"]["error"]["message"]
    assert "→ error" in result.stderr
    shown = flowdesk("show", out["id"], db=db).stdout
    assert "failed → error port" in shown and "status    completed" in shown
    assert json.loads(flowdesk("show", out["id"], "--json", db=db).stdout)[
        "steps"]["x"]["branch"] == "error"


def test_each_command_is_registered_by_the_group_the_cli_imports_for_it() -> None:
    # a command line naming a command builds only its group's parser (flowdesk.cli.COMMANDS)
    import argparse

    from flowdesk.cli import COMMANDS, build_parser

    def commands(parser: argparse.ArgumentParser) -> set[str]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(sub.choices)

    assert commands(build_parser()) == set(COMMANDS)
    for name in COMMANDS:
        assert name in commands(build_parser(name))
