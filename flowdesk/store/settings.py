"""Settings kept in the database (e.g. how long kept events live), as JSON values by key."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

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

    def all_settings(self) -> dict[str, Any]:
        with guard(self._db.url), self._db.read() as conn:
            rows = conn.execute(sa.select(settings)).all()
        return {r.key: json.loads(r.value) for r in rows}
