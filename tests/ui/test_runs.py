"""Runs in the app: live badges, the event log, history, the approvals inbox."""

from __future__ import annotations

import json
import time

from flowdesk.model import RunStatus, StepStatus
from flowdesk.resources import examples_dir
from flowdesk.ui.theme import DARK, LIGHT, STATUS_COLORS
from tests.e2e.screen import Screen
from tests.ui.conftest import save_artifact

FINAL = {StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.FAILED, StepStatus.CANCELLED}


def sample(name: str) -> dict:
    return json.loads((examples_dir() / name).read_text())["sample_input"]


def open_example(window, file: str, name: str) -> None:
    window.library.import_examples(examples_dir())
    window.open_workflow(name)


def test_a_run_shows_live_badges_until_the_final_states(window, qtbot) -> None:
    open_example(window, "order-batch.json", "Order batch")
    seen_running = []
    window.controller.steps_updated.connect(
        lambda run_id, views: seen_running.extend(
            sid for sid, v in views.items() if v.status is StepStatus.RUNNING))
    run_id = window.start_run(sample("order-batch.json"))
    assert run_id is not None
    items = window.scene.node_items
    qtbot.waitUntil(lambda: all(i.view is not None and i.view.status in FINAL
                                for i in items.values()), timeout=20000)
    run = window.library.get_run(run_id)
    assert run.status is RunStatus.COMPLETED
    for node_id, item in items.items():
        assert item.view.status is run.steps[node_id].status
        if item.view.status is StepStatus.COMPLETED:
            assert item.view.attempt == 1 and item.view.duration_ms is not None
    assert "price" in seen_running  # badges went through "running" live
    # the branch taken is highlighted; the other one is dead
    taken = {(e.source, e.handle): e.state for e in window.scene.edge_items.values()}
    assert taken[("any_large", "true")] == "taken"
    assert taken[("any_large", "false")] == "dead"
    # event log and history
    assert window.event_log.topLevelItemCount() >= 10
    assert window.history.rowCount() == 1
    assert window.history.item(0, 1).text() == "completed"
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"))
    # the selected step's input and output
    window.scene.select_nodes(["summary"])
    assert window.step_details.output.value["orders"] == 3
    assert window.step_details.input.value is not None
    window.tabs.setCurrentWidget(window.step_details)
    save_artifact(window, "main_window_run.png")
    canvas = Screen(window.view.grab().toImage())
    full = (0, 0, canvas.image.width(), canvas.image.height())
    assert canvas.share(*full, STATUS_COLORS[StepStatus.COMPLETED], 30) > 0.001  # badges
    assert canvas.share(*full, LIGHT.canvas, 4) > 0.5  # the light canvas, not a blank grab


def test_failed_run_retry_and_past_runs(window, qtbot, tmp_path) -> None:
    window.new_workflow()
    flag = tmp_path / "ready"
    from flowdesk.document.commands import AddItemsCommand

    window.doc.undo_stack.push(AddItemsCommand(window.doc, [
        {"id": "check", "type": "inline_code",
         "data": {"config": {"code": f"import os\nassert os.path.exists({str(flag)!r}), "
                                     "'file not there yet'\nresult = 1"}}},
        {"id": "after", "type": "transform", "position": {"x": 300, "y": 0},
         "data": {"config": {"output": "{{ steps.check.output.result }}"}}}],
        [{"id": "e1", "source": "check", "target": "after"}], "Add"))
    run_id = window.start_run({})
    item = window.scene.node_items["check"]
    qtbot.waitUntil(lambda: item.view.status is StepStatus.FAILED, timeout=20000)
    qtbot.waitUntil(lambda: window.menus.act_retry.isEnabled(), timeout=5000)
    assert "file not there yet" in item.toolTip()
    flag.write_text("ok")
    window.menus.act_retry.trigger()
    qtbot.waitUntil(lambda: window.scene.node_items["after"].view.status
                    is StepStatus.COMPLETED, timeout=20000)
    assert window.library.get_run(run_id).status is RunStatus.COMPLETED
    second = window.start_run({})
    qtbot.waitUntil(lambda: window.library.get_run(second).status is RunStatus.COMPLETED,
                    timeout=20000)
    qtbot.waitUntil(lambda: window.history.rowCount() == 2)
    # open the first run again from the history: its badges come back
    window.history.run_opened.emit(run_id)
    assert window.current_run == run_id
    assert window.scene.node_items["after"].view.status is StepStatus.COMPLETED
    assert window.event_log.topLevelItemCount() > 5


def test_approve_from_the_inbox_and_send_the_event(window, qtbot) -> None:
    open_example(window, "approval-gate.json", "Refund approval")
    run_id = window.start_run({"order_id": "Q-9", "amount": 120, "reason": "late"})
    qtbot.waitUntil(lambda: window.library.get_run(run_id).status is RunStatus.PAUSED,
                    timeout=20000)
    qtbot.waitUntil(lambda: window.approvals.list.count() == 1, timeout=5000)
    assert window.tabs.tabText(3) == "Approvals (1)"
    item = window.scene.node_items["approve"]
    qtbot.waitUntil(lambda: item.view is not None and item.view.status is StepStatus.WAITING)
    assert window.approvals.title.text() == "Refund 120 for order Q-9?"
    assert window.approvals.data.value == {"order": "Q-9", "reason": "late"}
    window.approvals.comment.setText("fine")
    window.approvals.extra.setPlainText('{"ticket": 12}')
    waiting_since = window.library.get_run(run_id).steps["approve"].started_at
    assert waiting_since is not None
    window.approvals.approve.click()
    waited_ms = (time.time() - waiting_since) * 1000
    qtbot.waitUntil(lambda: window.scene.node_items["confirmed"].view.status
                    is StepStatus.WAITING, timeout=20000)
    out = window.library.get_run(run_id).steps["approve"].output
    assert (out["approved"], out["comment"], out["data"]) == (True, "fine", {"ticket": 12})
    qtbot.waitUntil(lambda: window.approvals.list.count() == 1 and
                    window.approvals.current()["kind"] == "event", timeout=5000)
    # a wait for an event offers to send that event, not Approve/Reject
    assert window.approvals.shown() == "event"
    assert not window.approvals.approve.isVisibleTo(window.approvals)
    assert "refund.confirmed" in window.approvals.event_title.text()
    assert "Q-9" in window.approvals.event_info.text()
    window.approvals.wait_data.setText('{"ref": "r1"}')
    window.approvals.send_wait.click()
    qtbot.waitUntil(lambda: window.library.get_run(run_id).status is RunStatus.COMPLETED,
                    timeout=20000)
    qtbot.waitUntil(lambda: window.approvals.list.count() == 0, timeout=5000)
    assert window.library.get_run(run_id).steps["confirmed"].output["data"] == {"ref": "r1"}
    # nothing left: the detail pane says so, with no stale table or live button
    assert window.approvals.shown() == "empty"
    assert not window.approvals.approve.isVisibleTo(window.approvals)
    # History follows the run to its end, though it was never re-opened
    qtbot.waitUntil(lambda: window.history.item(0, 1).text() == "completed", timeout=5000)
    # the approval step's badge shows how long it waited, not the 2 ms of reading it
    approve = window.library.get_run(run_id).steps["approve"]
    assert approve.duration_ms is not None and approve.duration_ms >= waited_ms


def test_dark_theme_screenshot(window, qtbot) -> None:
    open_example(window, "lead-scoring.json", "Lead scoring")
    window.menus.act_dark.trigger()
    run_id = window.start_run(sample("lead-scoring.json"))
    qtbot.waitUntil(lambda: window.library.get_run(run_id).status is RunStatus.COMPLETED,
                    timeout=20000)
    qtbot.waitUntil(lambda: window.scene.node_items["task"].view.status
                    is StepStatus.COMPLETED)
    save_artifact(window, "main_window_dark.png")
    canvas = Screen(window.view.grab().toImage())
    full = (0, 0, canvas.image.width(), canvas.image.height())
    assert canvas.share(*full, DARK.canvas, 4) > 0.5  # the dark canvas
    assert canvas.share(*full, STATUS_COLORS[StepStatus.COMPLETED], 30) > 0.001
    assert canvas.share(*full, LIGHT.node, 4) < 0.01  # no light-theme node left over
    window.menus.act_dark.trigger()


def test_the_app_runs_the_webhook_service(window, qtbot, qloop) -> None:
    import socket

    import httpx

    from flowdesk.app import _start_service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    window.library.store.set_setting("serve.port", port)
    open_example(window, "lead-scoring.json", "Lead scoring")
    started = qloop.create_task(_start_service(window))
    qtbot.waitUntil(started.done, timeout=5000)
    service = started.result()
    assert service is not None and service.port == port
    answer = {}

    def post() -> None:
        answer["r"] = httpx.post(f"http://127.0.0.1:{port}/hooks/signup", json={
            "name": "Ada", "email": "ada@engines.example", "company": "Engines",
            "employees": 80, "country": "GB"}, timeout=5)

    import threading
    thread = threading.Thread(target=post)
    thread.start()
    qtbot.waitUntil(lambda: "r" in answer, timeout=10000)
    thread.join()
    assert answer["r"].status_code == 202
    run_id = answer["r"].json()["run_id"]
    qtbot.waitUntil(lambda: window.library.get_run(run_id).status is RunStatus.COMPLETED,
                    timeout=20000)
    window.runs.refresh_history()
    assert window.history.rowCount() == 1  # the app sees runs the service started
    stopped = qloop.create_task(service.stop())
    qtbot.waitUntil(stopped.done, timeout=5000)


def test_a_streaming_llm_answer_grows_in_the_step_tab(window, qtbot) -> None:
    from tests.helpers.httpserver import Answer, LoopbackServer

    def stream(hit):
        def chunk(text):
            return "data: " + json.dumps({"model": "m", "choices": [
                {"delta": {"content": text}}]}) + "\n\n"
        return Answer(200, chunk("Hello ") + chunk("there"),
                      headers={"Content-Type": "text/event-stream"})

    server = LoopbackServer()
    server.route("/v1/chat/completions", stream)
    server.start()
    try:
        window.new_workflow()
        node_id = window.canvas_actions.add_step("llm_call", None)
        for key, value in (("base_url", f"{server.url}/v1"), ("model", "m"),
                           ("prompt", "hi"), ("stream", True)):
            from flowdesk.document.commands import SetConfigValueCommand
            window.doc.undo_stack.push(SetConfigValueCommand(window.doc, node_id, key, value))
        window.scene.select_nodes([node_id])
        seen = []
        window.controller.steps_updated.connect(
            lambda run_id, views: seen.append(views[node_id].extra.get("text"))
            if node_id in views else None)
        run_id = window.start_run({})
        qtbot.waitUntil(lambda: window.library.get_run(run_id).status is RunStatus.COMPLETED,
                        timeout=20000)
        # the tokens reach the UI through the controller (one update per frame)
        qtbot.waitUntil(lambda: "Hello there" in seen, timeout=5000)
    finally:
        server.stop()
    qtbot.waitUntil(lambda: window.step_details.output.value == {
        "text": "Hello there", "model": "m", "usage": None, "finish_reason": None})
