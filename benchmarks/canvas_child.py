"""Canvas figures (offscreen Qt): open an N-node / 1.5·N-edge workflow (argv[1], default
1,000), repaint it while panning and zooming (the first, cache-filling paint included),
auto-layout it, and feed R engine events a second (argv[2], default 10,000) to the canvas
through the RunController while measuring the longest gap between UI timer ticks."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

from PySide6.QtCore import QElapsedTimer, QRectF, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication


def big_workflow(n: int = 1000, edges_total: int = 1500) -> dict:
    """A large workflow shaped like real ones: a backbone chain plus branches and joins
    between nearby steps, laid out by flowdesk's own auto-layout."""
    from flowdesk.document.layout import layered_layout
    from flowdesk.model import Workflow

    rng = random.Random(7)
    nodes = [{"id": f"n{i}", "type": "transform",
              "data": {"label": f"Step {i}", "config": {"output": i}}} for i in range(n)]
    pairs = {(i - 1, i) for i in range(1, n)}
    while len(pairs) < edges_total:
        a = rng.randrange(n - 2)
        pairs.add((a, min(n - 1, a + rng.randint(2, 12))))
    edges = [{"id": f"e{k}", "source": f"n{a}", "target": f"n{b}"}
             for k, (a, b) in enumerate(sorted(pairs))]
    definition = {"name": "big", "nodes": nodes, "edges": edges}
    positions = layered_layout(Workflow.model_validate(definition))
    for node in nodes:
        x, y = positions[node["id"]]
        node["position"] = {"x": x, "y": y}
    return definition


def main() -> None:
    import qasync

    from flowdesk.document import RunController, WorkflowDocument, layered_layout
    from flowdesk.engine import Engine
    from flowdesk.model import Workflow
    from flowdesk.model.events import EventType, RunEvent
    from flowdesk.steps import default_registry
    from flowdesk.store import open_store
    from flowdesk.ui import theme
    from flowdesk.ui.canvas.scene import WorkflowScene
    from flowdesk.ui.canvas.view import WorkflowView

    app = QApplication([])
    theme.apply_theme(app, "light")
    registry = default_registry()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    definition = big_workflow(n, n * 3 // 2)
    out: dict[str, float] = {}

    start = time.perf_counter()
    doc = WorkflowDocument(Workflow.model_validate(definition), registry)
    scene = WorkflowScene(doc)
    view = WorkflowView()
    view.resize(1600, 1000)
    view.setScene(scene)
    view.show()
    view.zoom_to_fit()
    app.processEvents()
    out["open_ms"] = (time.perf_counter() - start) * 1000
    out["edges"] = len(doc.workflow.edges)

    # full repaints of the viewport at three zoom levels, while panning
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    timings = []
    for zoom in (1.0, 0.5, 0.2):
        view.set_zoom(zoom, anchor_center=True)
        for _ in range(5):
            view.pan_by(137, 61)
            timer = QElapsedTimer()
            timer.start()
            painter = QPainter(image)
            view.render(painter, QRectF(image.rect()), view.viewport().rect())
            painter.end()
            timings.append(timer.nsecsElapsed() / 1e6)
            out.setdefault(f"repaint_ms_at_{zoom}", timer.nsecsElapsed() / 1e6)
    out["repaint_ms_median"] = statistics.median(timings)
    out["repaint_ms_max"] = max(timings)

    # frames as a person sees them: each zoom step and each pan, then everything Qt does for
    # it (the viewport's and the minimap's paint); the first, cache-filling frame included
    view.set_zoom(0.35, anchor_center=True)
    app.processEvents()
    frames = []
    for zoom in (1.0, 0.7, 0.5, 0.35, 0.2):
        for step in range(6):
            timer = QElapsedTimer()
            timer.start()
            if step == 0:
                view.set_zoom(zoom, anchor_center=True)
            else:
                view.pan_by(97 if step % 2 else -41, 53)
            app.processEvents()
            frames.append(timer.nsecsElapsed() / 1e6)
    out["frame_ms_median"] = statistics.median(frames)
    out["frame_ms_max"] = max(frames)
    out["frame_ms_first"] = frames[0]

    start = time.perf_counter()
    layered_layout(doc.workflow)
    out["layout_ms"] = (time.perf_counter() - start) * 1000

    # live updates: `rate` events a second for 2 s through the RunController
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    store = open_store(os.path.join(tempfile.mkdtemp(), "c.db"))
    controller = RunController(Engine(store, registry))
    controller.steps_updated.connect(lambda run_id, views: scene.apply_step_views(views))
    ticks: list[float] = []
    tick = QTimer(interval=5)
    tick.timeout.connect(lambda: ticks.append(time.perf_counter()))
    kinds = [EventType.STEP_STARTED, EventType.STEP_COMPLETED]
    state: dict[str, float] = {"seq": 0, "sent": 0, "t0": 0.0}

    def burst() -> None:  # catch up to `rate` events a second of wall time
        due = int((time.perf_counter() - state["t0"]) * rate) - state["sent"]
        for _ in range(max(due, 0)):
            state["seq"] += 1
            i = state["seq"]
            controller.engine.bus.publish(RunEvent.model_construct(
                run_id="bench", seq=i, type=kinds[i % 2], step_id=f"n{(i // 2) % n}",
                ts=time.time(), payload={"attempt": 1, "duration_ms": 1.0}))
        state["sent"] += max(due, 0)

    producer = QTimer(interval=10)
    producer.timeout.connect(burst)

    async def run() -> None:
        tick.start()
        state["t0"] = time.perf_counter()
        producer.start()
        await asyncio.sleep(2.0)
        producer.stop()
        await asyncio.sleep(0.1)
        tick.stop()

    with loop:
        loop.run_until_complete(run())
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    out["events_sent"] = state["sent"]
    out["events_per_s"] = state["sent"] / 2.0
    out["ui_flushes"] = controller.flushes
    out["longest_gap_ms"] = max(gaps) * 1000
    out["p99_gap_ms"] = sorted(gaps)[int(len(gaps) * 0.99)] * 1000
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
