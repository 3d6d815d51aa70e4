"""Where flowdesk keeps its files: ``$FLOWDESK_HOME`` or the user's data folder.

Every function takes an optional ``home`` (the data folder to use instead of the one the
environment names), so a composition root given one folder finds everything in it; the
environment's ``$FLOWDESK_DB`` still names the database when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_DB_NAME", "data_dir", "default_db_path", "plugin_dir"]

DEFAULT_DB_NAME = "flowdesk.db"  # in the data folder


def data_dir(home: Path | None = None) -> Path:
    if home is not None:
        return Path(home).expanduser()
    env = os.environ.get("FLOWDESK_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("flowdesk", appauthor=False)


def default_db_path(home: Path | None = None) -> Path | str:
    """``$FLOWDESK_DB`` (a file path, or a SQLAlchemy URL such as
    ``postgresql+psycopg://host/db``, kept as text: ``Path`` would fold its ``//``), else
    ``flowdesk.db`` in the data folder."""
    env = os.environ.get("FLOWDESK_DB")
    if env:
        return env if "://" in env else Path(env).expanduser()
    return data_dir(home) / DEFAULT_DB_NAME


def plugin_dir(home: Path | None = None) -> Path:
    """The user's plugin folder: every ``*.py`` in it may register functions."""
    return data_dir(home) / "plugins"
