"""flowdesk benchmarks: `python benchmarks/run.py` prints a table (and writes results.md).

Every figure is the median of several runs with min–max; where it makes sense it is also
given as a ratio to a baseline measured in the same run on the same machine (the floor of a
persisted asyncio engine, a bare Python start, an empty database), because these machines
are shared and noisy. Nothing here asserts anything: it measures.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    Figure,
    Paints,
    chain,
    child,
    fan_out,
    median,
    run_cli,
    to_paint,
    wall,
)

PY = sys.executable


def script(name: str, *args: object) -> dict:
    code = f"import runpy, sys; sys.argv = ['x', *{[str(a) for a in args]!r}]; " \
           f"runpy.run_path({str(HERE / name)!r}, run_name='__main__')"
    return child(code)


def _last_run_seconds(db: Path) -> float:
    """The active time of the newest run in ``db`` (what `flowdesk run` reports)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT active_seconds FROM runs ORDER BY created_at DESC "
                           "LIMIT 1").fetchone()
    return float(row[0])


def cli_figures(tmp: Path, runs: int, floor: Figure, add: Callable[[Figure], None]) -> None:
    """The command line's targets, each beside its floor measured in the same runs:
    start-up (a 20-step run vs `import sqlalchemy, pydantic`), the cost per step of a run
    through `flowdesk run` (read, validate, run, persist, print), and a 10,000-step run
    (whole command vs the run's own time, peak RSS)."""
    files = {"20": chain(20), "1": chain(1), "chain": chain(2000), "fan": fan_out(1999),
             "10k": chain(10_000)}
    for name, definition in files.items():
        (tmp / f"{name}.json").write_text(json.dumps(definition))
    db = tmp / "cli.db"
    env = {"FLOWDESK_DB": str(db), "FLOWDESK_HOME": str(tmp)}

    def cli(name: str, *extra: str) -> tuple[float, float]:
        return run_cli([PY, "-m", "flowdesk", "run", *extra, str(tmp / f"{name}.json")], env)

    cli("1")  # creates the database
    imports, libraries, start20 = [], [], []
    per_step: dict[str, list[float]] = {"chain": [], "fan": []}
    for _ in range(runs):  # interleaved, so that both sides see the same machine
        imports.append(wall([PY, "-c", "import sqlalchemy, pydantic"]))
        libraries.append(wall([PY, str(HERE / "startup_floor.py"), str(tmp / "floor.db")]))
        start20.append(cli("20", "-q")[0])
        one = cli("1")[0]
        for shape in per_step:
            per_step[shape].append((cli(shape)[0] - one) / 1999 * 1000)
    add(Figure("floor: `python -c \"import sqlalchemy, pydantic\"`", imports, "ms"))
    add(Figure("floor: same + one pydantic model, asyncio, one SQLite commit "
               "(startup_floor.py)", libraries, "ms", "reference", median(imports)))
    add(Figure("CLI: `flowdesk run` 20-step chain (-q)", start20, "ms", "≤ 1.3× import floor",
               median(imports), limit=1.3))
    add(Figure("CLI: same ÷ the libraries' floor (startup_floor.py)", start20, "ms",
               "reference", median(libraries)))
    for shape, values in per_step.items():
        add(Figure(f"CLI: per step, `flowdesk run` ×2,000 {shape} − ×1 (printed)", values,
                   "µs/step", "≤ 3× floor", floor.median, limit=3))
    whole, ratio, rss = [], [], []
    for _ in range(max(2, runs - 2)):
        ms, mb = cli("10k", "-q")
        whole.append(ms)
        ratio.append(ms / 1000 / _last_run_seconds(db))
        rss.append(mb)
    add(Figure("CLI: `flowdesk run` 10,000-step chain, whole command", whole, "ms"))
    add(Figure("CLI: same, whole command ÷ the run's own time", ratio, "×", "≤ 1.5×",
               limit=1.5))
    add(Figure("CLI: same, peak RSS", rss, "MB", "≤ 150 MB", limit=150))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure")
    parser.add_argument("--quick", action="store_true", help="fewer and smaller runs")
    parser.add_argument("--app", action="store_true",
                        help="only the desktop app: start-up, canvas and live figures")
    parser.add_argument("--cli", action="store_true",
                        help="only the command line's figures (with the engine floor)")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    # an installed flowdesk runs from compiled bytecode (pip and the bundle compile it);
    # compile the checkout's modules now, so no figure includes compiling them (which happens
    # on every start when PYTHONDONTWRITEBYTECODE is set, as it is on some machines)
    compileall.compile_dir(str(HERE.parent / "flowdesk"), quiet=1)
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
    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            cli_figures(Path(tmp), runs, floor, add)
        return report(figures, runs, (" --quick" if args.quick else "") + " --cli")
    if not args.app:
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
                       "MB", "≤ 150 MB"))
        small = [script("engine_child.py", "chain", 1000)["per_step_us"]
                 for _ in range(max(2, runs - 2))]
        add(Figure("scale: chain ×1,000", small, "µs/step"))
        tenk = [script("engine_child.py", "chain", 10_000)["per_step_us"]
                for _ in range(max(2, runs - 2))]
        add(Figure("scale: chain ×10,000 per step ÷ ×1,000 per step", [t / median(small)
                                                                      for t in tenk],
                   "×", "≤ 1.1×", limit=1.1))
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
        if not args.app:
            cli_figures(Path(tmp), runs, floor, add)
        wf = Path(tmp) / "small.json"
        wf.write_text(json.dumps(chain(5)))
        env = {"FLOWDESK_DB": str(Path(tmp) / "cli.db"), "FLOWDESK_HOME": tmp}
        wall([PY, "-m", "flowdesk", "run", str(wf)], env)  # creates the database
        app_env = {**env, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   "FLOWDESK_EXIT_AFTER_PAINT": "1"}
        wall([PY, "-m", "flowdesk"], app_env)
        # the floor and the app alternate, so both see the same moment of a shared machine
        windows = [(to_paint([PY, str(HERE / "window_floor.py")], app_env),
                    to_paint([PY, "-m", "flowdesk"], app_env)) for _ in range(runs)]
        floor_window = Figure("floor: minimal PySide6 window, start → first paint",
                              [minimal.window for minimal, _app in windows], "ms")
        add(floor_window)
        # the first window the person sees is the start-up splash (flowdesk.ui.splash); the
        # main window, ready for work, follows once flowdesk is imported and the window built
        add(Figure("app: process start → first painted window (start-up splash)",
                   [_splash_ms(app) for _floor, app in windows], "ms", "≤ 2× minimal window",
                   floor_window.median,
                   goal=lambda _m, times: times is not None and times <= 2.0))
        add(Figure("app: process start → main window painted, ready",
                   [app.window for _floor, app in windows], "ms", "reference",
                   floor_window.median))

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

    flags = (" --quick" if args.quick else "") + (" --app" if args.app else "")
    return report(figures, runs, flags)


def _splash_ms(app: Paints) -> float:
    if app.splash is None:
        raise RuntimeError("the app reported no splash (flowdesk.ui.splash prints one with "
                           "FLOWDESK_EXIT_AFTER_PAINT)")
    return app.splash


def report(figures: list[Figure], runs: int, flags: str) -> int:
    """Print the table and the verdicts; write results.md (results-app.md for --app)."""
    header = ["figure", "median", "min–max", "× baseline", "target / reference"]
    rows = [f.row() for f in figures]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
              for r in rows]
    table = "\n".join(lines)
    print(table)
    verdicts = [v for v in (f.verdict() for f in figures) if v is not None]
    if verdicts:
        print("\ntargets (medians, ratios to floors measured in the same run):")
        print("\n".join(f"  {v}" for v in verdicts))
    name = {" --app": "results-app.md", " --cli": "results-cli.md"}.get(flags.replace(
        " --quick", ""), "results.md")
    (HERE / name).write_text(
        f"Measured with `python benchmarks/run.py{flags}` ({runs} runs per figure).\n\n"
        f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
