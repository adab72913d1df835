"""Opening a database: URL checks, engine settings, migrations at start, error translation."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import URL, Engine

from bot.config.values import credentials_in, mask_password
from bot.errors import StoreError

log = logging.getLogger(__name__)

# busy_timeout: wait for the other writer instead of failing at once. WAL: readers never block
# the writer. synchronous=NORMAL is safe with WAL (a power cut may lose the last commits, never
# corrupts). SQLite leaves foreign keys off unless asked, per connection.
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 15000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)
# pg_advisory_xact_lock key shared by every postwatch process migrating the same database
# (the ASCII bytes of "postwatc"; any fixed 64-bit number would do).
MIGRATION_LOCK_KEY = 0x706F_7374_7761_7463
WAL_SWITCH_TRIES, WAL_SWITCH_PAUSE = 300, 0.05  # up to ~15 s, as busy_timeout
PG_CONNECT_TIMEOUT = 10  # seconds; psycopg otherwise waits on an unreachable host for minutes

# Alembic's `context` is a process-wide proxy: migrations in two threads of one process would
# trample each other, so they take turns. Between processes the database lock below decides.
_migrate_lock = threading.Lock()

URL_HELP = "expected sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/db"


def parse_url(url: str) -> URL:
    """The URL with our driver chosen; StoreError (never echoing the URL) when unusable."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        # SQLAlchemy's message repeats the whole string, password included.
        raise StoreError(f"database URL is not valid ({URL_HELP})") from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise StoreError(f"unsupported database {backend!r} ({URL_HELP})")
    if not parsed.database or parsed.database == ":memory:":
        # Each pooled connection would get its own empty in-memory database.
        raise StoreError(f"in-memory SQLite is not supported; give a file path ({URL_HELP})")
    return parsed.set(drivername="sqlite")


def masked(url: URL) -> str:
    """The URL for messages: no password, in its userinfo or its query (bot.config.values)."""
    return mask_password(url.render_as_string(hide_password=False))


def create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_settings)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
    # pre_ping: a restarted PostgreSQL leaves dead connections in the pool.
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_settings(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            _execute_when_unlocked(cursor, pragma)
    finally:
        cursor.close()


def _execute_when_unlocked(cursor: Any, sql: str) -> None:
    # Switching a new database to WAL answers "database is locked" without consulting
    # busy_timeout while another process holds a lock (seen with two processes starting
    # together), so wait it out here. Once in WAL the mode persists and this never loops.
    for _ in range(WAL_SWITCH_TRIES - 1):
        try:
            cursor.execute(sql)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(WAL_SWITCH_PAUSE)
        else:
            return
    cursor.execute(sql)


def alembic_config() -> AlembicConfig:
    """Alembic's settings for our migrations: inside the package, so they ship in the wheel and
    users need no alembic.ini."""
    config = AlembicConfig()
    config.set_main_option("script_location", "bot.store:migrations")
    config.set_main_option("path_separator", "os")
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision, one process at a time, in one transaction."""
    config = alembic_config()
    with _migrate_lock, engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock up front: a second process waits (busy_timeout), then finds
            # the schema current. PostgreSQL DDL is transactional; SQLite's is too once BEGIN'd.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
    if after != before:  # Alembic's own lines are debug-only (bot.log)
        log.info("database schema upgraded from %s to %s", before or "nothing", after)


def open_engine(url: str, *, create: bool = True) -> Engine:
    """A migrated, ready engine for `url`, or StoreError with the password masked.

    `create=False` (the commands that only read) refuses a database postwatch never made,
    instead of creating an empty one that answers every question with "nothing".
    """
    parsed = parse_url(url)
    if (
        not create
        and parsed.get_backend_name() == "sqlite"
        and not Path(parsed.database or "").exists()
    ):
        raise StoreError(
            f"no database at {parsed.database} (postwatch run creates it; is database_url right? "
            "a relative path is relative to the config file)"
        )
    engine: Engine | None = None
    try:
        engine = create_engine(parsed)
        if not create and not sa.inspect(engine).has_table("alembic_version"):
            engine.dispose()
            raise StoreError(
                f"no postwatch database at {masked(parsed)} (postwatch run creates it)"
            )
        migrate(engine)
    except (sa.exc.SQLAlchemyError, CommandError, OSError) as exc:
        if engine is not None:
            engine.dispose()
        raise StoreError(
            f"cannot open database {masked(parsed)}: {error_reason(exc, parsed)}"
        ) from exc
    return engine


def error_reason(exc: BaseException, url: URL) -> str:
    """The driver's own words for a database error, on one line, the password masked."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own words, without SQLAlchemy's SQL echo and help link
    if isinstance(exc, CommandError) and "Can't locate revision" in str(exc):
        return f"the schema is newer than this version of postwatch ({exc})"
    reason = " ".join(str(exc).split()) or type(exc).__name__
    for secret in credentials_in(url.render_as_string(hide_password=False)):
        reason = reason.replace(secret, "***")
    return reason[:500]


# PostgreSQL SQLSTATEs of a writer that lost a race and may simply try again:
# lock_not_available, deadlock_detected, serialization_failure (Appendix A of its manual).
_PG_BUSY = frozenset({"55P03", "40P01", "40001"})


def is_busy(exc: BaseException) -> bool:
    """Whether a database error only says another writer held the lock past our wait
    (SQLite's busy_timeout, PostgreSQL's lock timeout or a deadlock): try again, nothing lost."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in str(orig) or "busy" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_BUSY
