"""Where flowdesk's resources (icons, examples, the .desktop file) are, whether it runs from
a source checkout, an installed wheel, or a PyInstaller bundle."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

__all__ = ["examples_dir", "icons_dir", "resources_dir"]


@cache
def resources_dir() -> Path:
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    here = Path(__file__).resolve().parent
    candidates.append(here.parent / "resources")  # a source checkout / editable install
    candidates.append(here / "_resources")  # an installed wheel
    for path in candidates:
        if (path / "icons").is_dir():
            return path
    raise FileNotFoundError(
        "flowdesk's resources folder is missing; looked in: "
        + ", ".join(str(p) for p in candidates)
    )


def icons_dir() -> Path:
    return resources_dir() / "icons"


def examples_dir() -> Path:
    return resources_dir() / "examples"
