"""For tests that start `flowdesk` as a separate process: a free loopback port and the
environment that points it at the test's own database and data folder."""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["cli_env", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FLOWDESK_DB": str(tmp_path / "f.db"),
            "FLOWDESK_HOME": str(tmp_path / "home")}
