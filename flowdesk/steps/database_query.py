"""database_query: run SQL against any SQLAlchemy URL (SQLite by default; Postgres or MySQL
when their driver is installed).

Values go in ``params`` and are bound (``:name`` in the query) — never spliced into the SQL:
validation refuses a template inside the query text and says to use a parameter. Output
``{rows, row_count, columns}`` (rows as objects, at most ``max_rows``); a write reports
``rowcount``. ``read_only`` refuses anything that is not a query. Engines are cached per URL
for the life of the process.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pydantic import Field, field_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError, StepError
from flowdesk.steps._base import StepConfig, credential

__all__ = ["STEP", "DatabaseQueryConfig", "dispose_engines"]

_ENGINES: dict[str, Any] = {}
_LOCK = threading.Lock()


class DatabaseQueryConfig(StepConfig):
    credential: str | None = Field(None, description="stored secret {url}")
    url: str | None = Field(None, description="SQLAlchemy URL, e.g. sqlite:///reports.db")
    query: str = Field(min_length=1, json_schema_extra={"format": "sql"})
    params: dict[str, Any] = Field(default_factory=dict, description="bound to :names")
    max_rows: int = Field(1000, gt=0, le=1_000_000)
    read_only: bool = Field(False, description="refuse statements that change data")
    timeout_seconds: float = Field(60.0, gt=0)

    @field_validator("query")
    @classmethod
    def _no_templates(cls, query: str) -> str:
        if "{{" in query:
            raise ValueError("templates are not allowed in the SQL text; use a parameter: "
                             "write :name in the "
                             "query and put the value in 'params'")
        return query


def _engine(url: str) -> Any:
    import sqlalchemy as sa

    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            try:
                engine = sa.create_engine(url, pool_pre_ping=True)
            except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
                raise StepConfigError(f"cannot use database URL: {exc}") from None
            _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _execute(url: str, query: str, params: dict[str, Any], max_rows: int,
             read_only: bool) -> dict[str, Any]:
    import sqlalchemy as sa

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if read_only and engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                result = conn.execute(sa.text(query), params)
                if result.returns_rows:
                    columns = list(result.keys())
                    rows = [dict(zip(columns, row, strict=True))
                            for row in result.fetchmany(max_rows + 1)]
                    truncated = len(rows) > max_rows
                    out = {"rows": rows[:max_rows], "row_count": min(len(rows), max_rows),
                           "columns": columns, "truncated": truncated}
                else:
                    if read_only:
                        conn.rollback()
                        raise StepConfigError("read_only is set but the statement changes data")
                    out = {"rows": [], "row_count": 0, "columns": [],
                           "rowcount": result.rowcount}
                conn.commit()
                return out
            finally:
                if read_only and engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
    except StepError:
        raise
    except sa.exc.OperationalError as exc:
        text = str(exc.orig)
        if read_only and "readonly" in text.replace("-", "").lower():
            raise StepConfigError("read_only is set but the statement changes data") from None
        raise StepError(f"database error: {text}", retriable="locked" in text
                        or "connect" in text.lower()) from None
    except sa.exc.StatementError as exc:
        raise StepConfigError(f"bad query or parameters: {exc.orig}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise StepError(f"database error: {exc}") from None


async def run(config: DatabaseQueryConfig, ctx: StepContext) -> dict[str, Any]:
    url = config.url
    if config.credential:
        url = url or credential(ctx, config.credential, "url").get("url")
    if not url:
        raise StepConfigError("set 'url' or 'credential'")
    if dispose_engines not in ctx.services.on_close:
        ctx.services.on_close.append(dispose_engines)
    return await asyncio.wait_for(
        asyncio.to_thread(_execute, url, config.query, config.params, config.max_rows,
                          config.read_only),
        config.timeout_seconds)


STEP = StepType(
    catalog=CatalogEntry(
        type="database_query", label="SQL query", category="Integrations", icon="database",
        description="Runs SQL with bound parameters on SQLite, Postgres, MySQL…",
        outputs=("rows", "row_count", "columns"),
    ),
    config_model=DatabaseQueryConfig,
    handler=run,
)
