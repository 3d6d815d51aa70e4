"""A database server that goes away in the middle of a run and comes back: the command says
what happened and what to do, nothing recorded is lost, and `flowdesk resume` finishes the
run. Its own throw-away PostgreSQL server, since this test stops it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.postgres import PostgresCluster, _as_postgres, start_cluster


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    server = start_cluster()
    yield server
    server.stop()


def test_a_server_that_goes_away_mid_run_and_comes_back(cluster: PostgresCluster,
                                                          tmp_path: Path) -> None:
    url = cluster.new_database()
    flow = tmp_path / "away.json"
    flow.write_text(json.dumps({"name": "away", "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": 1}}},
        {"id": "wait", "type": "delay", "data": {"config": {"seconds": 2}}},
        {"id": "b", "type": "transform", "data": {"config": {"output": 2}}}],
        "edges": [{"id": "e1", "source": "a", "target": "wait"},
                  {"id": "e2", "source": "wait", "target": "b"}]}))
    env = {k: v for k, v in os.environ.items() if k != "FLOWDESK_DB"}

    def flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flowdesk", "--db", url, *args],
                              capture_output=True, text=True, env=env, timeout=120)

    assert flowdesk("import", str(flow)).returncode == 0
    run = subprocess.Popen([sys.executable, "-u", "-m", "flowdesk", "--db", url, "run", "away"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert run.stderr is not None
    for line in run.stderr:  # the delay has started: its due time is recorded
        if "wait  started" in line:
            break
    _as_postgres(f"{cluster.bin}/pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop")
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 2, err
    assert "database error" in err and "flowdesk resume" in err and "Traceback" not in err
    _as_postgres(f"{cluster.bin}/pg_ctl", "-D", str(cluster.data), "-o",
                 f"-p {cluster.port} -k {cluster.sock} -c listen_addresses=''",
                 "-l", str(cluster.root / "log"), "-w", "start")
    resumed = flowdesk("resume")
    assert resumed.returncode == 0, resumed.stderr
    runs = json.loads(flowdesk("runs", "--json").stdout)
    assert [r["status"] for r in runs] == ["completed"]
    shown = json.loads(flowdesk("show", runs[0]["id"], "--json").stdout)
    assert {s: shown["steps"][s]["status"] for s in ("a", "wait", "b")} == {
        "a": "completed", "wait": "completed", "b": "completed"}
    assert shown["steps"]["a"]["attempts"] == 1  # what was recorded was not run again
