"""A workflow file without positions (written by hand or by a script) is laid out when it is
imported — on the command line and in the app — instead of opening as one pile of steps; a
file with positions of its own keeps them exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flowdesk.engine.layout import place_if_unplaced
from flowdesk.model.workflow import Workflow

CHAIN = {"name": "chain", "nodes": [
    {"id": i, "type": "transform", "data": {"config": {"output": 1}}} for i in "abc"],
    "edges": [{"id": "e1", "source": "a", "target": "b"},
              {"id": "e2", "source": "b", "target": "c"}]}


def _spots(workflow: Workflow) -> list[tuple[float, float]]:
    return [(n.position.x, n.position.y) for n in workflow.nodes]


def test_steps_all_at_one_point_are_laid_out_left_to_right() -> None:
    workflow = Workflow.model_validate(CHAIN)
    assert place_if_unplaced(workflow)
    xs = [x for x, _y in _spots(workflow)]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_a_workflow_with_positions_of_its_own_is_left_as_it_is() -> None:
    placed = json.loads(json.dumps(CHAIN))
    placed["nodes"][1]["position"] = {"x": 0, "y": 300}  # one given position is enough
    workflow = Workflow.model_validate(placed)
    assert not place_if_unplaced(workflow)
    assert _spots(workflow) == [(0, 0), (0, 300), (0, 0)]
    single = Workflow.model_validate({"name": "one", "nodes": CHAIN["nodes"][:1]})
    assert not place_if_unplaced(single)


def test_flowdesk_import_stores_a_file_without_positions_laid_out(tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(CHAIN))
    env = {**os.environ, "FLOWDESK_DB": str(tmp_path / "f.db")}

    def flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flowdesk", *args], capture_output=True,
                              text=True, env=env, timeout=60)

    assert flowdesk("import", str(path)).returncode == 0
    stored = Workflow.model_validate(json.loads(flowdesk("export", "chain").stdout))
    assert len(set(_spots(stored))) == 3
    again = flowdesk("import", str(path))  # the same file again: the same layout, no version
    assert "unchanged, kept 'chain' (version 1)" in again.stdout
