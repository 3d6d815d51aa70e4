"""``flowdesk test-step``, ``pin``, ``pins``, ``export --with-pins`` and ``run --to`` as a user
runs them: real subprocesses on real database files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
ORDERS = EXAMPLES / "order-batch.json"


def flowdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWDESK_DB": str(tmp_path / "f.db"),
           "FLOWDESK_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "flowdesk", *args], capture_output=True,
                          text=True, env=env, timeout=90)


def test_test_step_on_pins_then_on_the_last_run(tmp_path: Path) -> None:
    assert flowdesk(tmp_path, "import", str(ORDERS)).returncode == 0
    missing = flowdesk(tmp_path, "test-step", "Order batch", "totals")
    assert missing.returncode == 2
    assert "step 'totals' reads the output of 'price', which has no pinned output" \
        in missing.stderr and "Traceback" not in missing.stderr

    pin = json.dumps({"price": {"results": [{"result": {"id": "Z", "gross": 900}}]}})
    done = flowdesk(tmp_path, "test-step", "Order batch", "totals", "--pin", pin, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "completed"
    assert out["output"] == {"orders": [{"id": "Z", "gross": 900}], "large": ["Z"],
                             "gross": 900}
    assert out["upstream"] == {"price": "pinned"}
    assert "no run recorded" in done.stderr
    assert flowdesk(tmp_path, "runs").stderr.strip() == "no runs"

    assert flowdesk(tmp_path, "run", "Order batch", "--sample-input", "-q").returncode == 0
    run_id = json.loads(flowdesk(tmp_path, "runs", "--json").stdout)[0]["id"]
    plain = flowdesk(tmp_path, "test-step", "Order batch", "totals")
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["large"] == ["A-1002"]
    assert f"upstream: price (run {run_id[:8]})" in plain.stderr
    assert len(json.loads(flowdesk(tmp_path, "runs", "--json").stdout)) == 1


def test_a_failing_step_exits_1_and_bad_input_exits_2(tmp_path: Path) -> None:
    failed = flowdesk(tmp_path, "test-step", str(ORDERS), "totals", "--pin",
                      '{"price": {"results": "oops"}}', "--json")
    assert failed.returncode == 1
    out = json.loads(failed.stdout)
    assert out["status"] == "failed" and "jmespath" in out["error"]
    assert "step 'totals' failed" in failed.stderr

    unknown = flowdesk(tmp_path, "test-step", str(ORDERS), "nope")
    assert unknown.returncode == 2
    assert "has no step 'nope' (its steps: price, totals" in unknown.stderr
    bad = flowdesk(tmp_path, "test-step", str(ORDERS), "totals", "--pin", "{bad")
    assert bad.returncode == 2 and "--pin is not valid JSON" in bad.stderr
    not_object = flowdesk(tmp_path, "test-step", str(ORDERS), "totals", "--pin", "[1]")
    assert not_object.returncode == 2 and "--pin must be a JSON object" in not_object.stderr
    trigger = flowdesk(tmp_path, "test-step", str(ORDERS), "price", "--input",
                       '{"orders": [{"id": "Q", "customer": "Q", "lines": []}]}', "--json")
    assert trigger.returncode == 0, trigger.stderr
    assert json.loads(trigger.stdout)["output"]["count"] == 1


def test_pins_are_stored_listed_exported_on_request_and_imported(tmp_path: Path) -> None:
    assert flowdesk(tmp_path, "import", str(ORDERS)).returncode == 0
    set_ = flowdesk(tmp_path, "pin", "Order batch", "totals", '{"large": ["X"]}')
    assert set_.returncode == 0, set_.stderr
    assert json.loads(flowdesk(tmp_path, "pins", "Order batch", "--json").stdout) == {
        "totals": {"large": ["X"]}}
    flag = flowdesk(tmp_path, "test-step", "Order batch", "flag", "--pin",
                    '{"any_large": {"result": true}}')
    assert flag.returncode == 0, flag.stderr
    assert json.loads(flag.stdout)["review"] == ["X"]
    assert "totals (pinned)" in flag.stderr
    # a pin is no new version, and the plain export leaves it out
    versions = json.loads(flowdesk(tmp_path, "versions", "Order batch", "--json").stdout)
    assert [v["version"] for v in versions["versions"]] == [1]
    assert versions["draft_differs"] is False
    assert "pins" not in json.loads(flowdesk(tmp_path, "export", "Order batch").stdout)
    exported = flowdesk(tmp_path, "export", "Order batch", "--with-pins", "-o",
                        str(tmp_path / "with.json"))
    assert exported.returncode == 0
    data = json.loads((tmp_path / "with.json").read_text())
    assert data["pins"] == {"totals": {"large": ["X"]}}

    # importing that file elsewhere stores the pins apart from the definition
    other = tmp_path / "other"
    other.mkdir()
    assert flowdesk(other, "import", str(tmp_path / "with.json")).returncode == 0
    assert json.loads(flowdesk(other, "pins", "Order batch", "--json").stdout) == {
        "totals": {"large": ["X"]}}
    assert "pins" not in json.loads(flowdesk(other, "export", "Order batch").stdout)

    cleared = flowdesk(tmp_path, "pin", "Order batch", "totals", "--clear")
    assert cleared.returncode == 0 and "unpinned 'totals'" in cleared.stdout
    assert flowdesk(tmp_path, "pins", "Order batch", "--json").stdout.strip() == "{}"
    both = flowdesk(tmp_path, "pin", "Order batch", "totals", "1", "--clear")
    assert both.returncode == 2


def test_pin_from_a_run_and_run_to_here(tmp_path: Path) -> None:
    assert flowdesk(tmp_path, "import", str(ORDERS)).returncode == 0
    partial = flowdesk(tmp_path, "run", "Order batch", "--sample-input", "--to", "totals",
                       "--json")
    assert partial.returncode == 0, partial.stderr
    run = json.loads(partial.stdout)
    assert sorted(run["steps"]) == ["price", "totals"]
    # the partial run is in the workflow's history
    listed = json.loads(flowdesk(tmp_path, "runs", "--workflow", "Order batch",
                                 "--json").stdout)
    assert [r["id"] for r in listed] == [run["id"]]
    pinned = flowdesk(tmp_path, "pin", "Order batch", "totals", "--from-run", run["id"][:8])
    assert pinned.returncode == 0, pinned.stderr
    assert json.loads(flowdesk(tmp_path, "pins", "Order batch", "--json").stdout)[
        "totals"] == run["steps"]["totals"]["output"]
    none = flowdesk(tmp_path, "pin", "Order batch", "flag", "--from-run", run["id"][:8])
    assert none.returncode == 2 and "has no output of step 'flag'" in none.stderr
