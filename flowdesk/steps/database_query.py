"""database_query: run SQL against any SQLAlchemy URL (SQLite by default; Postgres or MySQL
when their driver is installed).

Values go in ``params`` and are bound (``:name`` in the query) — never spliced into the SQL:
validation refuses a template inside the query text and says to use a parameter. Output
``{rows, row_count, columns}`` (rows as objects, at most ``max_rows``); a write reports
``rowcount``. ``read_only`` refuses anything that is not a query before it runs: on SQLite an
authorizer denies every action but reading (no ATTACH, VACUUM, PRAGMA that sets a value,
load_extension...) when the statement is prepared, and ``PRAGMA query_only`` holds the file
read-only under it; on PostgreSQL the statement runs in a ``READ ONLY`` transaction; other
databases are refused with ``read_only`` (it could not be enforced). Engines are cached per
URL for the life of the process.
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
_READ_ONLY_REFUSED = "read_only is set but the statement changes data"

# sqlite3 authorizer action codes a read may use (sqlite3.SQLITE_SELECT, _READ, _FUNCTION,
# _RECURSIVE; SQLITE_TRANSACTION so the driver's own COMMIT/ROLLBACK still prepare)
_SQLITE_READ_ACTIONS = frozenset({21, 20, 31, 33, 22})
_SQLITE_PRAGMA = 19
_SQLITE_DENY, _SQLITE_OK = 1, 0
# pragmas that only report; the first group takes a table or index name as argument
_NAME_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info",
                           "index_xinfo", "foreign_key_list", "foreign_key_check",
                           "integrity_check", "quick_check", "table_list"})
_VALUE_PRAGMAS = frozenset({"user_version", "schema_version", "application_id", "data_version",
                            "journal_mode", "page_size", "page_count", "freelist_count",
                            "encoding", "foreign_keys", "database_list", "collation_list",
                            "function_list", "module_list", "pragma_list", "compile_options",
                            "query_only", "auto_vacuum", "synchronous", "cache_size",
                            "busy_timeout", "max_page_count"})
_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit",
                               "fts3_tokenizer"})


def _sqlite_reads_only(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action in _SQLITE_READ_ACTIONS:
        if action == 31 and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            return _SQLITE_DENY
        return _SQLITE_OK
    if action == _SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _NAME_PRAGMAS or (name in _VALUE_PRAGMAS and arg2 is None):
            return _SQLITE_OK
    return _SQLITE_DENY


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

    from flowdesk.dburl import DatabaseUrlError, normalize_url

    try:
        url = normalize_url(url)
    except DatabaseUrlError as exc:
        raise StepConfigError(f"cannot use database URL: {exc}") from None
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            kwargs: dict[str, Any] = {"pool_pre_ping": True}
            if _in_memory(url):
                # one connection shared by the worker threads (each thread would otherwise
                # get its own empty database, and closing it from another thread at exit
                # printed a traceback); _execute takes turns on it
                kwargs = {"poolclass": sa.pool.StaticPool,
                          "connect_args": {"check_same_thread": False}}
            try:
                engine = sa.create_engine(url, **kwargs)
            except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
                raise StepConfigError(f"cannot use database URL: {exc}") from None
            _ENGINES[url] = engine
        return engine


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (url.partition("://")[2] in ("", "/:memory:")
                                         or "mode=memory" in url)


_MEMORY_TURN = threading.Lock()


def dispose_engines() -> None:
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _execute(url: str, query: str, params: dict[str, Any], max_rows: int,
             read_only: bool) -> dict[str, Any]:
    engine = _engine(url)
    if _in_memory(str(engine.url)):
        with _MEMORY_TURN:
            return _run(engine, query, params, max_rows, read_only)
    return _run(engine, query, params, max_rows, read_only)


def _run(engine: Any, query: str, params: dict[str, Any], max_rows: int,
         read_only: bool) -> dict[str, Any]:
    import sqlalchemy as sa

    dialect = engine.dialect.name
    if read_only and dialect not in ("sqlite", "postgresql"):
        raise StepConfigError(f"read_only cannot be enforced on {dialect}: use a database "
                              f"login that may only read, and turn read_only off")
    try:
        with engine.connect() as conn:
            raw: Any = None
            if read_only and dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
                raw = conn.connection.driver_connection
                raw.set_authorizer(_sqlite_reads_only)
            elif read_only:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
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
                        raise StepConfigError(_READ_ONLY_REFUSED)
                    out = {"rows": [], "row_count": 0, "columns": [],
                           "rowcount": result.rowcount}
                conn.commit()
                return out
            finally:
                if raw is not None:  # the connection goes back to the pool as it came
                    raw.set_authorizer(None)
                    conn.rollback()
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
    except StepError:
        raise
    except sa.exc.DBAPIError as exc:
        text = str(exc.orig)
        folded = text.replace("-", "").lower()
        if read_only and ("readonly" in folded or "not authorized" in folded
                          or "authorization denied" in folded
                          or getattr(exc.orig, "sqlstate", None) == "25006"):
            raise StepConfigError(f"{_READ_ONLY_REFUSED}, refused before it ran "
                                  f"({text.splitlines()[0]})") from None
        if not isinstance(exc, sa.exc.OperationalError):
            raise StepConfigError(f"bad query or parameters: {text}") from None
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
