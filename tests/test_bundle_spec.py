"""The PyInstaller spec's data list matches what exists, and the desktop entry installs.
(Building the bundle is too slow for CI: scripts/build_bundle.sh does it.)"""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bundle_data() -> list[tuple[str, str]]:
    tree = ast.parse((ROOT / "flowdesk.spec").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BUNDLE_DATA":
            return ast.literal_eval(node.value)
    raise AssertionError("flowdesk.spec has no BUNDLE_DATA")


def test_every_bundled_path_exists_and_every_resource_is_bundled() -> None:
    data = bundle_data()
    for source, _ in data:
        assert (ROOT / source).exists(), source
    covered = [ROOT / source for source, _ in data]
    for path in (ROOT / "resources").rglob("*"):
        if path.is_file():
            assert any(path == c or c in path.parents for c in covered), f"not bundled: {path}"
    migrations = ROOT / "flowdesk" / "store" / "migrations" / "versions"
    assert any(p.suffix == ".py" for p in migrations.iterdir())


def test_install_desktop_puts_the_entry_and_icons_in_place(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "FLOWDESK_HOME": str(tmp_path / "h")}
    result = subprocess.run([sys.executable, "-m", "flowdesk", "install-desktop"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(tmp_path / "applications" / "flowdesk.desktop")
    section = entry["Desktop Entry"]
    assert section["Name"] == "flowdesk" and section["Icon"] == "flowdesk"
    command = section["Exec"].split(" %f")[0]
    assert Path(command.split(" ")[0]).exists()  # the launcher it points at is real
    for size in (16, 48, 256):
        assert (tmp_path / f"icons/hicolor/{size}x{size}/apps/flowdesk.png").stat().st_size > 0


def test_a_crash_is_logged_in_the_data_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWDESK_HOME", str(tmp_path))
    from flowdesk import app

    app._install_excepthook()
    try:
        raise RuntimeError("boom for the log")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = sys.__excepthook__
    log = (tmp_path / "logs" / "crash.log").read_text()
    assert "RuntimeError: boom for the log" in log and "Traceback" in log


def test_the_wheel_package_list_covers_every_package() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "flowdesk").rglob("__init__.py")}
    assert found <= listed
    patterns = config["package-data"]["flowdesk._resources"]
    for path in (ROOT / "resources").rglob("*"):
        if path.is_file():
            relative = path.relative_to(ROOT / "resources")
            assert any(relative.match(p) for p in patterns), f"not in the wheel: {relative}"
