"""Opening the database: URL resolution, SQLite pragmas, automatic migrations, and turning
driver errors (a locked file, a damaged file, a file that is not ours) into ``StoreError``s
that say which file and what to do."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc

from flowdesk.dburl import DatabaseUrlError, normalize_url
from flowdesk.model.errors import StoreError
from flowdesk.paths import default_db_path

__all__ = ["HEAD_REVISION", "create_db_engine", "database_url", "default_db_path", "guard",
           "migrate"]

HEAD_REVISION = "0008"
_MIGRATIONS = Path(__file__).with_name("migrations")
# the key of the PostgreSQL advisory lock held while migrating (any constant of our own)
MIGRATION_LOCK_KEY = 0x666C6F77  # "flow"


def database_url(target: str | Path | None) -> str:
    """A path becomes a SQLite URL; a string with ``://`` is used as a SQLAlchemy URL
    (``postgres://`` mapped to the installed driver, a missing driver named)."""
    if target is None:
        target = default_db_path()
    text = str(target)
    if "://" in text:
        try:
            return normalize_url(text)
        except DatabaseUrlError as error:
            raise StoreError(f"cannot open the database: {error}") from None
    if text == ":memory:":
        return "sqlite://"
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _describe(url: str) -> str:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url


@contextlib.contextmanager
def guard(url: str) -> Iterator[None]:
    """Translate the driver's errors into StoreErrors that name the database."""
    try:
        yield
    except exc.IntegrityError:
        raise  # a constraint the caller handles (e.g. an idempotency key used before)
    except exc.OperationalError as e:
        text = str(e.orig) if e.orig is not None else str(e)
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"the database {_describe(url)} is locked by another program; "
                "close it or try again"
            ) from None
        if "readonly" in text or "read-only" in text:
            raise StoreError(f"the database {_describe(url)} is read-only: {text}") from None
        raise StoreError(f"database error on {_describe(url)}: {text}") from None
    except exc.DatabaseError as e:
        text = str(e.orig) if e.orig is not None else str(e)
        raise StoreError(
            f"{_describe(url)} is not a flowdesk database or is damaged ({text}); "
            "move it away or pass another file with --db"
        ) from None


def create_db_engine(url: str, busy_timeout: float = 10.0) -> sa.Engine:
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
    scheme = url.partition("://")[0]
    try:
        engine = sa.create_engine(url, **kwargs)
    except exc.NoSuchModuleError:
        raise StoreError(f"cannot open the database: '{scheme}://' is not a kind of database "
                         f"SQLAlchemy knows (sqlite:///path, postgresql://...)") from None
    except ImportError as error:
        raise StoreError(f"cannot open the database: {scheme}:// needs the "
                         f"{error.name or 'driver'} module, which is not installed "
                         f"(pip install it)") from None
    except exc.ArgumentError as error:
        raise StoreError(f"cannot open the database: not a valid URL: {error}") from None
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # let SQLAlchemy, not pysqlite, decide when transactions begin
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA cache_size=-32000")  # 32 MB: big histories stay fast
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # writers take the write lock up front, so a read-then-write transaction waits
            # for busy_timeout instead of failing at once with "database is locked"
            immediate = conn.get_execution_options().get("flowdesk_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the head revision. Costs one query when it already is."""
    with engine.connect() as conn:
        if _current_revision(conn) == HEAD_REVISION:
            return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # under a lock, so processes opening a new database together migrate it once and the
    # others then find it at head: SQLite's write lock (BEGIN IMMEDIATE), PostgreSQL's
    # transaction-level advisory lock (released with the migration's commit)
    with (engine.connect() as conn, _foreign_keys_off(conn),
          conn.execution_options(flowdesk_write=True).begin()):
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                         {"key": MIGRATION_LOCK_KEY})
        current = _current_revision(conn)
        if current == HEAD_REVISION:
            return
        if current is not None and not (current.isdigit() and current < HEAD_REVISION):
            # not one this flowdesk knows: a newer flowdesk made it. Touch nothing.
            raise StoreError(
                f"the database {engine.url.render_as_string(hide_password=True)} was made by "
                f"a newer flowdesk (schema revision {current!r}; this one knows up to "
                f"{HEAD_REVISION!r}): upgrade flowdesk to open it")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@contextlib.contextmanager
def _foreign_keys_off(conn: sa.Connection) -> Iterator[None]:
    """SQLite: foreign keys off while migrating, so a migration that rebuilds a table (the
    only way SQLite drops a constraint) does not cascade its DROP to the rows that refer to
    it. The pragma is set outside any transaction, as SQLite requires, and set back after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
