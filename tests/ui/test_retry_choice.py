"""Retry in the app: with the current workflow by default (the fix made in the inspector is
used), with the original on request; the Step tab counts attempts right and History shows
active time apart from waiting."""

from __future__ import annotations

from flowdesk.document.commands import AddItemsCommand, SetConfigValueCommand
from flowdesk.model import RunStatus


def build(window) -> None:
    window.new_workflow()
    window.doc.undo_stack.push(AddItemsCommand(window.doc, [
        {"id": "a", "type": "transform", "position": {"x": 0, "y": 0},
         "data": {"config": {"output": 1}}},
        {"id": "b", "type": "inline_code", "position": {"x": 300, "y": 0},
         "data": {"config": {"code": "raise ValueError('old code')"}}}],
        [{"id": "e1", "source": "a", "target": "b"}], "Add"))


def wait_status(window, qtbot, run_id: str, status: RunStatus, attempt: int) -> None:
    qtbot.waitUntil(lambda: (window.library.get_run(run_id).status, window.library.get_run(
        run_id).attempt) == (status, attempt) and not window.controller.is_running(run_id),
        timeout=20000)


def test_retry_uses_the_fix_or_the_original_on_request(window, qtbot) -> None:
    build(window)
    run_id = window.start_run({})
    wait_status(window, qtbot, run_id, RunStatus.FAILED, 1)
    window.scene.select_nodes(["b"])
    window.doc.undo_stack.push(SetConfigValueCommand(window.doc, "b", "code", "result = 2"))
    qtbot.waitUntil(lambda: window.menus.act_retry_original.isEnabled(), timeout=5000)
    window.menus.act_retry_original.trigger()
    assert "original" in window.last_notice
    wait_status(window, qtbot, run_id, RunStatus.FAILED, 2)
    window.scene.select_nodes(["b"])
    # the Step tab follows the run's events (one frame after the store)
    qtbot.waitUntil(lambda: "2 attempts (1 in the latest retry)"
                    in window.step_details.title.text(), timeout=5000)
    assert "3 attempts" not in window.step_details.title.text()
    assert "run attempt 2, try 1" in window.step_details.error.text()
    qtbot.waitUntil(lambda: window.menus.act_retry.isEnabled(), timeout=5000)
    assert window.menus.act_retry.text() == "Retry with current workflow"
    window.menus.act_retry.trigger()  # the edit is saved first, then used
    wait_status(window, qtbot, run_id, RunStatus.COMPLETED, 3)
    run = window.library.get_run(run_id)
    assert run.steps["b"].output["result"] == 2
    window.runs.refresh_history()
    duration = window.history.item(0, 3).text()
    assert "waited" in duration  # idle time before the retries is shown apart
