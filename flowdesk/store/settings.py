"""Settings kept in the database (e.g. how long kept events live), as JSON values by key.

Contract: ``get_setting``/``set_setting`` read and write a value; ``add_setting`` writes one
only if the key has none yet, and ``replace_setting`` only if its value is still the one
the caller read (one conditional UPDATE): of several processes racing, exactly one gets
True. The schedules claim their firings with these.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from flowdesk.store.connection import Database
from flowdesk.store.database import guard
from flowdesk.store.tables import settings
from flowdesk.store.workflows import dumps

__all__ = ["SettingsRepository"]


class SettingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get_setting(self, key: str, default: Any = None) -> Any:
        with guard(self._db.url), self._db.read() as conn:
            value = conn.execute(
                sa.select(settings.c.value).where(settings.c.key == key)
            ).scalar()
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> None:
        with guard(self._db.url), self._db.write() as conn:
            conn.execute(settings.delete().where(settings.c.key == key))
            conn.execute(settings.insert().values(key=key, value=dumps(value)))

    def add_setting(self, key: str, value: Any) -> bool:
        """Set ``key`` if it has no value yet; False when another process was first."""
        try:
            with guard(self._db.url), self._db.write() as conn:
                if conn.execute(sa.select(settings.c.key).where(settings.c.key == key)) \
                        .first() is not None:
                    return False
                conn.execute(settings.insert().values(key=key, value=dumps(value)))
        except exc.IntegrityError:
            return False  # inserted by another process between our look and our insert
        return True

    def replace_setting(self, key: str, expected: Any, value: Any) -> bool:
        """Compare and set: ``value`` is written only if ``key`` still holds ``expected``
        (as read by ``get_setting``). True for exactly one of several racing callers."""
        with guard(self._db.url), self._db.write() as conn:
            result = conn.execute(settings.update()
                                  .where(settings.c.key == key,
                                         settings.c.value == dumps(expected))
                                  .values(value=dumps(value)))
            return bool(result.rowcount == 1)

    def all_settings(self) -> dict[str, Any]:
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(sa.select(settings)).all()
        return {r.key: json.loads(r.value) for r in rows}
