"""Desktop integration: install the freedesktop ``.desktop`` entry and icons for the user,
so flowdesk appears in the applications menu and opens with a double-click."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from flowdesk.resources import icons_dir, resources_dir

__all__ = ["install_desktop_entry", "launcher_command"]

ICON_SIZES = (16, 32, 48, 64, 128, 256)


def launcher_command() -> str:
    """What the menu entry runs: the bundle itself, or this environment's flowdesk."""
    if getattr(sys, "frozen", False):
        return sys.executable
    script = Path(sys.executable).with_name("flowdesk")
    if script.exists():
        return str(script)
    return f"{sys.executable} -m flowdesk"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install_desktop_entry() -> list[Path]:
    data = _data_home()
    template = (resources_dir() / "flowdesk.desktop").read_text(encoding="utf-8")
    entry = template.replace("Exec=flowdesk", f"Exec={launcher_command()}")
    apps = data / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    written = [apps / "flowdesk.desktop"]
    written[0].write_text(entry, encoding="utf-8")
    for size in ICON_SIZES:
        target = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "flowdesk.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icons_dir() / "png" / f"flowdesk-{size}.png", target)
        written.append(target)
    scalable = data / "icons" / "hicolor" / "scalable" / "apps" / "flowdesk.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icons_dir() / "flowdesk.svg", scalable)
    written.append(scalable)
    return written
