"""Where flowdesk keeps its files: ``$FLOWDESK_HOME`` or the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "default_db_path", "plugin_dir"]


def data_dir() -> Path:
    env = os.environ.get("FLOWDESK_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("flowdesk", appauthor=False)


def default_db_path() -> Path | str:
    """``$FLOWDESK_DB`` (a file path, or a SQLAlchemy URL such as
    ``postgresql+psycopg://host/db``, kept as text: ``Path`` would fold its ``//``), else
    ``flowdesk.db`` in the data folder."""
    env = os.environ.get("FLOWDESK_DB")
    if env:
        return env if "://" in env else Path(env).expanduser()
    return data_dir() / "flowdesk.db"


def plugin_dir() -> Path:
    return data_dir() / "plugins"
