"""Drive the real ``flowdesk`` program as a person does: a real X server (Xvfb) with a window
manager (openbox), the installed ``flowdesk`` command started with a fresh home folder and no
test switches, real keyboard and mouse input through xdotool, screenshots through imagemagick,
and the outcome read back through ``flowdesk`` commands on the same database.

Nothing here reaches into the process: widget positions are found on screenshots (the colours
of the canvas, the fields, the ports), relative to the window's geometry. Waits are for
conditions (a window, a title, a database row), never for a fixed time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["TOOLS", "App", "Desktop", "Rect", "missing_tools", "wait_until"]

TOOLS = ("Xvfb", "openbox", "xdotool", "xwininfo", "xprop", "import")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
T = TypeVar("T")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def wait_until(what: str, check: Callable[[], T], timeout: float = 15.0,
               interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last  # type: ignore[no-any-return]
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    def at(self, fx: float, fy: float) -> tuple[int, int]:
        """The point at fractions ``fx``, ``fy`` of the rectangle."""
        return self.x + int(self.w * fx), self.y + int(self.h * fy)


class Desktop:
    """Xvfb on a free display, with openbox as the window manager."""

    def __init__(self, size: tuple[int, int] = (1600, 1000)) -> None:
        self.size = size
        self.display = ""
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> Desktop:
        read, write = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0",
             f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp", "-noreset"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self._procs.append(xvfb)
        self.display = f":{number}"
        wm = subprocess.Popen(["openbox", "--sm-disable"], env=self.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._procs.append(wm)
        wait_until("openbox to manage the screen", lambda: "window id" in self.run(
            ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], check=False))
        return self

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def run(self, args: list[str], check: bool = True) -> str:
        result = subprocess.run(args, env=self.env(), capture_output=True, text=True,
                                timeout=30)
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    def stop(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()


def user_env(home: Path, display: str) -> dict[str, str]:
    """The environment a person's desktop session gives a program: their own, with a fresh
    home folder, and none of the switches a test run sets (QT_QPA_PLATFORM, FLOWDESK_*)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLOWDESK_", "QT_", "PYTEST_", "XDG_"))}
    env.update(HOME=str(home), DISPLAY=display, LANG=env.get("LANG", "C.UTF-8"))
    return env


def flowdesk_command() -> str:
    """The installed ``flowdesk`` command next to this Python (what a user runs)."""
    path = Path(sys.executable).parent / "flowdesk"
    if not path.exists():
        raise RuntimeError(f"the flowdesk command is not installed next to {sys.executable}")
    return str(path)


class App:
    """One ``flowdesk`` process on the desktop, for one user's home folder."""

    def __init__(self, desktop: Desktop, home: Path, name: str) -> None:
        self.desktop = desktop
        self.home = home
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.window = ""
        self.shots = 0
        self.log_path = ARTIFACTS / name / "app.log"
        shutil.rmtree(self.log_path.parent, ignore_errors=True)  # this run's pictures only

    # -- process -----------------------------------------------------------------------------
    def start(self, *args: str) -> App:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([flowdesk_command(), *args], cwd=self.home,
                                     env=user_env(self.home, self.desktop.display),
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.window = ""
        return self

    def wait_window(self, title_part: str = "— flowdesk", timeout: float = 30) -> str:
        """Wait for a visible window of this process whose title contains ``title_part``."""
        assert self.proc is not None

        seen: list[str] = []

        def find() -> str:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"flowdesk exited ({self.proc.returncode}) before its "
                                     f"window appeared:\n{self.log()}")
            out = self.x(["xdotool", "search", "--onlyvisible", "--pid", str(self.proc.pid),
                          "--name", "."], check=False)
            # read each window's name now: a search by name can match a window whose
            # title has just changed
            found = ""
            for win in out.split():
                if title_part in self.x(["xdotool", "getwindowname", win], check=False):
                    found = win
                    break
            # the same window on two looks in a row: one that is being replaced while the
            # app starts (seen once as a BadWindow a moment later) is not taken
            stable = found if found and seen[-1:] == [found] else ""
            seen.append(found)
            return stable

        win = wait_until(f"a window titled '{title_part}'", find, timeout)
        if title_part == "— flowdesk":
            self.window = win
        return win

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float = 5) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() \
            else ""

    # -- the CLI on the same database --------------------------------------------------------
    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([flowdesk_command(), *args], cwd=self.home,
                                env=user_env(self.home, self.desktop.display),
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"flowdesk {' '.join(args)} → {result.returncode}:\n"
                                 f"{result.stderr}")
        return result

    def exported(self, name: str) -> dict[str, Any]:
        """The workflow as the editor has it: the draft its autosave writes (what is
        published — what webhooks and `flowdesk run NAME` use — is `export` without --draft)."""
        return json.loads(self.cli("export", name, "--draft").stdout)  # type: ignore[no-any-return]

    def workflow_names(self) -> list[str]:
        out = self.cli("workflows", "--json").stdout
        return [w["name"] for w in json.loads(out)]

    # -- X -----------------------------------------------------------------------------------
    def x(self, args: list[str], check: bool = True) -> str:
        return self.desktop.run(args, check=check)

    def title(self) -> str:
        return self.x(["xdotool", "getwindowname", self.window], check=False).strip()

    def geometry(self, window: str | None = None) -> Rect:
        """The window's client area in screen coordinates (xwininfo: xdotool's own geometry
        is off by the frame under openbox)."""
        info = self.x(["xwininfo", "-id", window or self.window])
        fields = {}
        for line in info.splitlines():
            key, _, value = line.strip().partition(":")
            fields[key] = value.strip()
        return Rect(int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"]),
                    int(fields["Width"]), int(fields["Height"]))

    def activate(self, window: str | None = None) -> None:
        self.x(["xdotool", "windowactivate", "--sync", window or self.window], check=False)
        wait_until("the window to have the keyboard", lambda: self.x(
            ["xdotool", "getactivewindow"], check=False).strip() == (window or self.window),
            timeout=5)

    def key(self, *keys: str) -> None:
        self.x(["xdotool", "key", "--delay", "60", *keys])

    def type(self, text: str) -> None:
        self.x(["xdotool", "type", "--delay", "40", text])

    def click(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        self.x(["xdotool", "mousemove", "--sync", str(x), str(y)])
        self.x(["xdotool", "click", "--repeat", str(repeat), "--delay", "80", str(button)])

    def drag(self, start: tuple[int, int], end: tuple[int, int], steps: int = 12) -> None:
        """Press, move in steps past Qt's start-drag distance, release (one jump is not a
        drag to Qt)."""
        self.x(["xdotool", "mousemove", "--sync", str(start[0]), str(start[1])])
        self.x(["xdotool", "mousedown", "1"])
        for i in range(1, steps + 1):
            x = start[0] + (end[0] - start[0]) * i // steps
            y = start[1] + (end[1] - start[1]) * i // steps
            self.x(["xdotool", "mousemove", "--sync", str(x), str(y)])
            time.sleep(0.03)  # pacing of a hand's movement, not a wait for a result
        self.x(["xdotool", "mouseup", "1"])

    def screenshot(self, label: str) -> Path:
        self.shots += 1
        path = ARTIFACTS / self.name / f"{self.shots:02d}-{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.x(["import", "-window", "root", str(path)])
        return path

    # -- finding things on screen ------------------------------------------------------------
    def layout(self) -> Layout:
        """The window's parts, from a screenshot taken once the window has painted its
        contents (a window that has just been mapped may still be black inside)."""
        from tests.e2e.screen import Screen

        def painted() -> Layout | None:
            window = self.geometry()
            screen = Screen.load(self.screenshot("layout"))
            points = [(window.x + window.w * i // 41, window.y + window.h * j // 41)
                      for i in range(1, 41) for j in range(1, 41)]
            black = sum(screen.matches(x, y, "#000000", 8) for x, y in points)
            return Layout(window, screen) if black < len(points) // 2 else None

        return wait_until("the window to paint its contents", painted, interval=0.3)


class Layout:
    """Where the main window's parts are, found on a screenshot."""

    def __init__(self, window: Rect, screen: Any) -> None:
        self.window = window
        self.screen = screen

    def palette_search(self) -> tuple[int, int]:
        """The palette's search field: the first white field in the left dock."""
        x = self.window.x + 100
        top, _bottom = self.screen.runs_of(x, self.window.y + 40, self.window.y + 300,
                                           "#ffffff", min_len=18)[0]
        return x, top + 10

    def palette_first_entry(self) -> tuple[int, int]:
        """The first step entry of the palette's list (below its first category heading)."""
        x = self.window.x + 100
        runs = self.screen.runs_of(x, self.window.y + 40, self.window.y + 500, "#ffffff",
                                   min_len=18)
        tree_top = runs[1][0]
        return self.window.x + 70, tree_top + 20 + 13

    def inspector_fields(self) -> list[tuple[int, int]]:
        """The centres of the one-line fields in the inspector (right dock), top to bottom."""
        x = self.window.x + self.window.w - 120
        runs = self.screen.runs_of(x, self.window.y + 60, self.window.y + self.window.h - 40,
                                   "#ffffff", min_len=18)
        return [(x, (top + bottom) // 2) for top, bottom in runs if bottom - top <= 40]

    def canvas(self, color: str = "#f5f6f8") -> Rect:
        """The canvas: the widest span of the canvas colour (the light theme's unless told)
        across the window's upper part."""
        y = self.window.y + self.window.h // 4
        spans = self.screen.spans_of(y, self.window.x, self.window.x + self.window.w,
                                     color, tolerance=3, gap=8)
        left, right = max(spans, key=lambda s: s[1] - s[0])
        x = (left + right) // 2
        runs = self.screen.runs_of(x, self.window.y, self.window.y + self.window.h, color,
                                   tolerance=3, gap=8, min_len=40)
        top, bottom = runs[0][0], runs[-1][1]  # nodes may interrupt the column
        return Rect(left, top, right - left, bottom - top)

