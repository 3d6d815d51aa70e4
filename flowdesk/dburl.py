"""Database URLs as people write them, made into URLs SQLAlchemy can open — or a clear error.

``normalize_url`` maps ``postgres://`` (what many hosts hand out) and ``postgresql://`` to
the PostgreSQL driver that is installed (psycopg 3 first, then psycopg2), and refuses a URL
whose driver is missing with a message that names what to install (``flowdesk[postgres]``).
Other URLs pass through unchanged. Used by the store (``--db``) and by ``database_query``.
``display_name`` is how a database is named to a person (a window title, the splash).
"""

from __future__ import annotations

import importlib.util

__all__ = ["DatabaseUrlError", "display_name", "normalize_url"]

# scheme (dialect+driver) -> (module the driver imports, what to install)
_DRIVERS = {
    "postgresql+psycopg": ("psycopg", "pip install 'flowdesk[postgres]' (psycopg 3)"),
    "postgresql+psycopg2": ("psycopg2", "pip install psycopg2-binary"),
    "postgresql+asyncpg": ("asyncpg", "use postgresql+psycopg:// and pip install "
                                      "'flowdesk[postgres]'"),
    "mysql": ("MySQLdb", "pip install mysqlclient, or pymysql and mysql+pymysql://"),
    "mysql+mysqldb": ("MySQLdb", "pip install mysqlclient"),
    "mysql+pymysql": ("pymysql", "pip install pymysql"),
}


class DatabaseUrlError(ValueError):
    pass


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def normalize_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    lowered = scheme.lower()
    if lowered in ("postgres", "postgresql"):
        for driver in ("psycopg", "psycopg2"):
            if _installed(driver):
                return f"postgresql+{driver}://{rest}"
        raise DatabaseUrlError(f"{scheme}:// needs a PostgreSQL driver, which is not "
                               f"installed: pip install 'flowdesk[postgres]' (psycopg 3)")
    if lowered.startswith("postgres+"):
        lowered = "postgresql" + lowered.removeprefix("postgres")
        url = f"{lowered}://{rest}"
    known = _DRIVERS.get(lowered)
    if known is not None and not _installed(known[0]):
        raise DatabaseUrlError(f"{scheme}:// needs the {known[0]} driver, which is not "
                               f"installed: {known[1]}")
    return url


def display_name(db: str) -> str:
    """A database as a person knows it, never with a user or password: a file's name
    (``team.db``, also for ``sqlite:///…/team.db``), else the server's ``host/name``."""
    if "://" not in db:
        return db.replace("\\", "/").rsplit("/", 1)[-1]
    if db.startswith("sqlite:///"):
        return db.rsplit("/", 1)[-1]
    rest = db.split("://", 1)[-1].split("?", 1)[0]
    return rest.rsplit("@", 1)[-1]
