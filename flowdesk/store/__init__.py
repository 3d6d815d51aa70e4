"""Storage: SQLAlchemy tables, alembic migrations and the ``Store`` repository.

Only this package opens database connections. SQLite files are used in WAL mode with foreign
keys on; any SQLAlchemy URL works.
"""

from __future__ import annotations

from flowdesk.store.database import default_db_path
from flowdesk.store.repository import Store, open_store

__all__ = ["Store", "default_db_path", "open_store"]
