"""Helpers for the benchmarks: timing, medians, peak RSS of a child process, workflows."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Figure:
    name: str
    values: list[float]
    unit: str
    target: str = ""
    baseline: float | None = None  # the same-run floor this figure is compared with
    limit: float | None = None  # a target: the median (÷ baseline, if any) must be ≤ this
    goal: Callable[[float, float | None], bool] | None = None  # (median, ratio) -> met?

    @property
    def value(self) -> float:
        return self.median / self.baseline if self.baseline else self.median

    def verdict(self) -> str | None:
        """"met"/"NOT met" with the figure, for a figure with a target."""
        if self.goal is not None:
            times = self.median / self.baseline if self.baseline else None
            met = "met    " if self.goal(self.median, times) else "NOT met"
            shown = f"{times:,.2f}×" if times is not None else f"{self.median:,.1f} {self.unit}"
            return f"{met} {self.name}: {shown} (target {self.target})"
        if self.limit is None:
            return None
        met = "met    " if self.value <= self.limit else "NOT met"
        return f"{met} {self.name}: {self.value:,.2f} (target ≤ {self.limit:g}; {self.target})"

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def row(self) -> list[str]:
        lo, hi = min(self.values), max(self.values)
        times = self.median / self.baseline if self.baseline else None
        ratio = f"{times:.1f}×" if times is not None else ""
        target = self.target
        if self.goal is not None:
            target += " — met" if self.goal(self.median, times) else " — NOT met"
        return [self.name, f"{self.median:,.1f} {self.unit}", f"{lo:,.1f}–{hi:,.1f}", ratio,
                target]


def repeat(fn: Callable[[], float], runs: int) -> list[float]:
    return [fn() for _ in range(runs)]


def chain(n: int, step_type: str = "transform", config: dict[str, Any] | None = None) -> dict:
    config = config if config is not None else {"output": 1}
    nodes = [{"id": f"s{i}", "type": step_type, "data": {"config": config}} for i in range(n)]
    edges = [{"id": f"e{i}", "source": f"s{i}", "target": f"s{i + 1}"} for i in range(n - 1)]
    return {"name": f"chain-{n}", "nodes": nodes, "edges": edges}


def fan_out(n: int) -> dict:
    nodes = [{"id": "root", "type": "transform", "data": {"config": {"output": 1}}}]
    nodes += [{"id": f"s{i}", "type": "transform", "data": {"config": {"output": 1}}}
              for i in range(n)]
    edges = [{"id": f"e{i}", "source": "root", "target": f"s{i}"} for i in range(n)]
    return {"name": f"fan-{n}", "nodes": nodes, "edges": edges,
            "settings": {"max_concurrency": 1000}}


def child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run Python code in a fresh process; it prints one JSON line; maxrss is added (MB)."""
    import os

    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    import os

    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env={**os.environ, **(env or {})}, check=True,
                   timeout=120)
    return (time.perf_counter() - start) * 1000


def run_cli(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command to its end (it must succeed): its wall time (ms) and peak RSS (MB)."""
    import os

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    assert proc.stderr is not None
    proc.stderr.read()  # progress lines are printed, and read, as a terminal would
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Paints:
    """When a started window program painted, in ms from its process start."""

    window: float  # its main window's first paint ("first paint at <epoch>")
    splash: float | None  # its start-up splash ("splash painted at <epoch>"), if it has one
    total: float  # its end


def to_paint(cmd: list[str], env: dict[str, str] | None = None) -> Paints:
    """Run a window that prints "first paint at <epoch seconds>" on stderr (and, if it shows
    a splash first, "splash painted at <epoch seconds>") and then quits."""
    import os
    import re

    start = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120,
                          env={**os.environ, **(env or {})})
    total = (time.perf_counter() - t0) * 1000
    found = re.search(r"first paint at ([0-9.]+)", proc.stderr)
    if not found:
        raise RuntimeError(f"no first paint reported: {proc.stderr[-2000:]}")
    splash = re.search(r"splash painted at ([0-9.]+)", proc.stderr)
    return Paints((float(found.group(1)) - start) * 1000,
                  (float(splash.group(1)) - start) * 1000 if splash else None, total)
