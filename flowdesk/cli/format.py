"""Formatting for the command line: progress lines, tables, durations. No engine logic."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.run import RunSnapshot
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import ERROR_PORT

__all__ = ["ProgressPrinter", "fmt_duration", "fmt_time", "print_run", "print_table"]


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _short(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _fancy(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower()
    return "utf" in encoding


class ProgressPrinter:
    """Prints one line per step event on stderr."""

    def __init__(self, main_run_id: str | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.main_run_id = main_run_id
        fancy = _fancy(self.stream)
        self.marks = {
            EventType.STEP_STARTED: "▶" if fancy else ">",
            EventType.STEP_COMPLETED: "✓" if fancy else "+",
            EventType.STEP_FAILED: "✗" if fancy else "x",
            EventType.STEP_SKIPPED: "–" if fancy else "-",
            EventType.STEP_RETRYING: "↻" if fancy else "r",
            EventType.STEP_WAITING: "⏸" if fancy else "w",
            EventType.STEP_CANCELLED: "■" if fancy else "c",
        }
        self.start = time.monotonic()

    def __call__(self, event: RunEvent) -> None:
        mark = self.marks.get(event.type)
        if mark is None:
            if event.type is EventType.RUN_RESUMED and event.payload.get("interrupted_steps"):
                self._line(f"resumed; running again: "
                           f"{', '.join(event.payload['interrupted_steps'])}", event)
            elif event.type is EventType.RUN_RETRIED:
                self._line(f"{event.payload.get('reason', 'retry')}: "
                           f"{', '.join(event.payload.get('steps', []))}", event)
            return
        p = event.payload
        detail = ""
        if event.type is EventType.STEP_STARTED and p.get("attempt", 1) > 1:
            detail = f"attempt {p['attempt']}"
        elif event.type is EventType.STEP_COMPLETED:
            detail = fmt_duration((p.get("duration_ms") or 0) / 1000)
            if p.get("branch"):
                detail += f" → {p['branch']}"
        elif event.type is EventType.STEP_FAILED:
            detail = _short(p.get("error"), 200)
            if p.get("branch"):
                detail += f" → {p['branch']}"  # routed to its error port
            elif p.get("continued"):
                detail += " (continuing)"
        elif event.type is EventType.STEP_RETRYING:
            detail = f"attempt {p.get('attempt')} failed: {_short(p.get('error'), 120)}; " \
                     f"retrying in {fmt_duration(p.get('delay_seconds'))}"
        elif event.type is EventType.STEP_WAITING:
            detail = _short(p.get("title") or p.get("event_name") or p.get("kind") or "", 80)
        elif event.type is EventType.STEP_CANCELLED:
            detail = _short(p.get("reason"), 80)
        name = event.type.value.split(".", 1)[1]
        self._line(f"{mark} {event.step_id}  {name}{'  ' + detail if detail else ''}", event)

    def _line(self, text: str, event: RunEvent) -> None:
        prefix = "" if event.run_id == self.main_run_id or self.main_run_id is None else \
            f"  [{event.run_id[:8]}] "
        elapsed = time.monotonic() - self.start
        try:
            print(f"[{elapsed:7.2f}s] {prefix}{text}", file=self.stream, flush=True)
        except (BrokenPipeError, ValueError):
            pass


def print_table(rows: list[list[str]], headers: list[str], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
          file=stream)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
              file=stream)


def print_run(run: RunSnapshot, stream: TextIO | None = None, *, outputs: bool = True) -> None:
    stream = stream or sys.stdout
    duration = run.active_seconds if run.active_seconds is not None else \
        (run.finished_at - run.started_at) if run.finished_at and run.started_at else None
    print(f"run {run.id}", file=stream)
    print(f"  workflow  {run.workflow_name}"
          + (f" (version {run.workflow_version})" if run.workflow_version else ""), file=stream)
    print(f"  status    {run.status.value}", file=stream)
    print(f"  started   {fmt_time(run.started_at or run.created_at)}   "
          f"duration {fmt_duration(duration)}"
          + (f" (waited {fmt_duration(run.waiting_seconds)} apart from that)"
             if run.waiting_seconds and run.waiting_seconds >= 0.001 else ""), file=stream)
    if run.parent_run_id:
        print(f"  parent    {run.parent_run_id} (step {run.parent_step_id})", file=stream)
    if run.error:
        print(f"  error     {run.error}", file=stream)
    rows = []
    for step in run.steps.values():
        d = step.duration_ms
        rows.append([
            step.step_id,
            # a failure routed to the step's error port did not fail the run: say where it went
            step.status.value + (" → error port" if step.branch == ERROR_PORT
                                 and step.status is StepStatus.FAILED else ""),
            str(step.attempts),
            fmt_duration(d / 1000 if d is not None else None),
            _short(step.error, 60) if step.error else
            (_short(step.output, 60) if outputs and step.output is not None else ""),
        ])
    print(file=stream)
    print_table(rows, ["STEP", "STATUS", "ATTEMPTS", "DURATION", "OUTPUT / ERROR"], stream)
