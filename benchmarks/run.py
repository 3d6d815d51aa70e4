"""flowdesk benchmarks: `python benchmarks/run.py` prints a table (and writes results.md).

Every figure is the median of several runs with min–max; where it makes sense it is also
given as a ratio to a baseline measured in the same run on the same machine (the floor of a
persisted asyncio engine, a bare Python start, an empty database), because these machines
are shared and noisy. Nothing here asserts anything: it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Figure, chain, child, to_paint, wall  # noqa: E402

PY = sys.executable


def script(name: str, *args: object) -> dict:
    code = f"import runpy, sys; sys.argv = ['x', *{[str(a) for a in args]!r}]; " \
           f"runpy.run_path({str(HERE / name)!r}, run_name='__main__')"
    return child(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure")
    parser.add_argument("--quick", action="store_true", help="fewer and smaller runs")
    parser.add_argument("--app", action="store_true",
                        help="only the desktop app: start-up, canvas and live figures")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    big = 2_000 if args.quick else 10_000
    figures: list[Figure] = []

    def add(fig: Figure) -> None:
        figures.append(fig)
        print(f"  {fig.name}: {fig.row()[1]}", file=sys.stderr, flush=True)

    print("measuring…", file=sys.stderr)
    if not args.app:
        floors = [script("floor_child.py", 2000) for _ in range(runs)]
        floor = Figure("floor: task + SQLite INSERT+COMMIT per step",
                       [f["floor_us"] for f in floors], "µs/step", "25–45 µs (reference)")
        add(floor)
        add(Figure("bare asyncio task per step", [f["task_us"] for f in floors], "µs/step",
                   "8–14 µs (reference)"))
        add(Figure("engine: persisted transform chain ×2,000",
                   [script("engine_child.py", "chain", 2000)["per_step_us"] for _ in range(runs)],
                   "µs/step", "≤ 4× floor", floor.median))
        add(Figure("engine: fan-out ×2,000",
                   [script("engine_child.py", "fan", 2000)["per_step_us"] for _ in range(runs)],
                   "µs/step", "≤ 4× floor", floor.median))
        for shape in ("chain", "fan"):
            results = [script("engine_child.py", shape, big) for _ in range(max(2, runs - 2))]
            add(Figure(f"scale: {shape} ×{big:,}", [r["per_step_us"] for r in results], "µs/step",
                       "flat with size", floor.median))
            add(Figure(f"scale: {shape} ×{big:,} peak RSS", [r["maxrss_mb"] for r in results],
                       "MB", "< 300 MB"))
        history_n = 10_000 if args.quick else 100_000
        empty = [script("history_child.py", 0)["per_step_us"] for _ in range(max(2, runs - 2))]
        full = [script("history_child.py", history_n)["per_step_us"]
                for _ in range(max(2, runs - 2))]
        add(Figure("history: 500-step chain, empty db", empty, "µs/step"))
        add(Figure(f"history: same with {history_n:,} old runs", full, "µs/step",
                   "≈ 1× empty db", sorted(empty)[len(empty) // 2]))
        add(Figure("inline_code chain ×30 (warm sandbox)",
                   [script("engine_child.py", "code", 30)["per_step_us"] / 1000
                    for _ in range(runs)], "ms/step", "≤ 5 ms (n8n Code: ~15 ms)"))

    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp) / "small.json"
        wf.write_text(json.dumps(chain(5)))
        env = {"FLOWDESK_DB": str(Path(tmp) / "cli.db"), "FLOWDESK_HOME": tmp}
        wall([PY, "-m", "flowdesk", "run", str(wf)], env)  # creates the database
        if not args.app:
            python = [wall([PY, "-c", "pass"]) for _ in range(runs)]
            add(Figure("bare `python -c pass`", python, "ms"))
            add(Figure("CLI: `flowdesk run` 5-step workflow",
                       [wall([PY, "-m", "flowdesk", "run", "-q", str(wf)], env)
                        for _ in range(runs)], "ms", "< 1,000 ms (n8n 4.3 s)",
                       sorted(python)[len(python) // 2]))
        app_env = {**env, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   "FLOWDESK_EXIT_AFTER_PAINT": "1"}
        wall([PY, "-m", "flowdesk"], app_env)
        # the floor and the app alternate, so both see the same moment of a shared machine
        windows = [(to_paint([PY, str(HERE / "window_floor.py")], app_env)[0],
                    to_paint([PY, "-m", "flowdesk"], app_env)[0]) for _ in range(runs)]
        floor_window = Figure("floor: minimal PySide6 window, start → first paint",
                              [w[0] for w in windows], "ms")
        add(floor_window)
        add(Figure("app: process start → first painted window", [w[1] for w in windows],
                   "ms", "≤ 2× minimal window", floor_window.median,
                   goal=lambda _m, times: times is not None and times <= 2.0))

    n, rate = (2_000, 10_000) if args.quick else (5_000, 20_000)
    canvas = [script("canvas_child.py", n, rate) for _ in range(max(2, runs - 2))]
    add(Figure(f"canvas: open {n:,} nodes / {n * 3 // 2:,} edges",
               [c["open_ms"] for c in canvas], "ms", "< 1,500 ms",
               goal=lambda m, _t: m < 1500))
    add(Figure("canvas: pan/zoom frame, median of 30 (viewport + minimap)",
               [c["frame_ms_median"] for c in canvas], "ms", "< 16 ms",
               goal=lambda m, _t: m < 16))
    add(Figure("canvas: pan/zoom frame, worst of 30 (first, cache-filling, included)",
               [c["frame_ms_max"] for c in canvas], "ms", "< 33 ms",
               goal=lambda m, _t: m < 33))
    add(Figure("canvas: scene render to an image, median of 15",
               [c["repaint_ms_median"] for c in canvas], "ms", "reference"))
    add(Figure("canvas: scene render to an image, worst of 15",
               [c["repaint_ms_max"] for c in canvas], "ms", "reference"))
    add(Figure(f"canvas: auto-layout {n:,} nodes", [c["layout_ms"] for c in canvas], "ms",
               "< 1,000 ms"))
    add(Figure("live: events delivered per second", [c["events_per_s"] for c in canvas],
               "events/s", f"{rate:,} offered"))
    add(Figure("live: longest UI timer gap during the burst",
               [c["longest_gap_ms"] for c in canvas], "ms", "< 50 ms",
               goal=lambda m, _t: m < 50))
    add(Figure("live: 99th percentile UI timer gap",
               [c["p99_gap_ms"] for c in canvas], "ms", "< 50 ms"))

    header = ["figure", "median", "min–max", "× baseline", "target / reference"]
    rows = [f.row() for f in figures]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
              for r in rows]
    table = "\n".join(lines)
    print(table)
    flags = (" --quick" if args.quick else "") + (" --app" if args.app else "")
    (HERE / ("results-app.md" if args.app else "results.md")).write_text(
        f"Measured with `python benchmarks/run.py{flags}` ({runs} runs per figure).\n\n"
        f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
