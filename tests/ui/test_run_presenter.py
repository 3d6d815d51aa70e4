"""The run presenter is fed by the RunController's events: during a run the window does not
re-read the run from the store per batch of events (STYLE.md rule 15). The UI's only way to
the store is WorkflowLibrary; its run reads are counted (the real methods run)."""

from __future__ import annotations

import itertools

from flowdesk.document.commands import AddItemsCommand
from flowdesk.model import StepStatus

RUN_READS = ("get_run", "get_step_run", "run_status", "events")


def chain(window, length: int) -> list[str]:
    """A workflow of ``length`` short delays in a row: many events over many frames."""
    window.new_workflow()
    ids = [f"s{i}" for i in range(length)]
    nodes = [{"id": sid, "type": "delay", "position": {"x": 260 * i, "y": 0},
              "data": {"config": {"seconds": 0.01}}} for i, sid in enumerate(ids)]
    edges = [{"id": f"e{i}", "source": a, "target": b}
             for i, (a, b) in enumerate(itertools.pairwise(ids))]
    window.doc.undo_stack.push(AddItemsCommand(window.doc, nodes, edges, "Add"))
    return ids


def run_counting(window, qtbot, monkeypatch, length: int) -> tuple[dict[str, int], int, int]:
    """Run a chain with its last step selected and the Step tab open; returns the store
    reads made through the library, the events the UI received, and the UI updates."""
    ids = chain(window, length)
    window.scene.select_nodes([ids[-1]])
    window.tabs.setCurrentWidget(window.step_details)
    reads = dict.fromkeys(RUN_READS, 0)
    for name in RUN_READS:
        real = getattr(window.library, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            reads[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(window.library, name, counted)
    events: list[object] = []
    window.controller.events_received.connect(events.extend)
    flushes = window.controller.flushes
    run_id = window.start_run({})
    assert run_id is not None
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"), timeout=30000)
    qtbot.waitUntil(lambda: "completed" in window.step_details.title.text(), timeout=5000)
    monkeypatch.undo()  # the next run counts afresh
    window.controller.events_received.disconnect(events.extend)
    return reads, len(events), window.controller.flushes - flushes


def test_store_reads_do_not_grow_with_the_events_of_a_run(window, qtbot, monkeypatch) -> None:
    short_reads, short_events, _ = run_counting(window, qtbot, monkeypatch, 2)
    long_reads, long_events, long_flushes = run_counting(window, qtbot, monkeypatch, 24)
    assert long_events > 5 * short_events and long_flushes > 10  # many batches of events
    assert long_reads == short_reads
    # the selected step's record is read once, when it finished; nothing else per run
    assert long_reads == {"get_run": 0, "get_step_run": 1, "run_status": 0, "events": 0}
    # and what the Step tab shows is that record, complete
    last = window.scene.selected_node_ids()[0]
    assert window.runs.step_view(last).status is StepStatus.COMPLETED
    record = window.library.get_run(window.current_run).steps[last]
    assert window.step_details.output.value == record.output
    assert record.output["waited_seconds"] > 0  # the whole record, read from the store
    assert "1 attempt" in window.step_details.title.text()


def test_a_past_run_opened_from_history_is_read_once(window, qtbot, monkeypatch) -> None:
    ids = chain(window, 3)
    run_id = window.start_run({})
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"), timeout=30000)
    window.new_workflow()
    window.open_workflow(window.library.get_run(run_id).workflow_name)
    assert window.current_run is None
    reads = {"get_run": 0, "get_step_run": 0}
    for name in reads:
        real = getattr(window.library, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            reads[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(window.library, name, counted)
    window.runs.show_run(run_id)
    for sid in ids:  # selecting each step shows its record from that one read
        window.scene.select_nodes([sid])
        assert "completed" in window.step_details.title.text()
        assert window.step_details.output.value["waited_seconds"] >= 0
    assert reads == {"get_run": 1, "get_step_run": 0}
    assert window.status_label.text() == f"run {run_id[:8]}: completed"


def test_a_closed_window_hears_no_more_of_the_runs(window, qtbot) -> None:
    """The library and the RunController outlive a window: once it is deleted, their
    signals reach none of its parts (pytest-qt fails the test on an exception in a slot)."""
    import shiboken6

    from flowdesk.ui.main_window import MainWindow

    other = MainWindow(window.library, window.controller)
    step_details, approvals = other.step_details, other.approvals
    other.runs.current_run = "r"  # as if it showed a run
    shiboken6.delete(other)
    assert not shiboken6.isValid(step_details) and not shiboken6.isValid(approvals)
    chain(window, 3)
    run_id = window.start_run({})
    qtbot.waitUntil(lambda: window.status_label.text().endswith("completed"), timeout=30000)
    window.library.save_now()  # saved / save_failed reach no deleted status bar either
    assert window.library.get_run(run_id).status.value == "completed"
