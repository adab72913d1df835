"""Real database trouble for tests: another writer holding the lock, a store that gives up on
it quickly. Real SQLite and PostgreSQL locks, never a mocked database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from bot.store.database import Store
from bot.store.engine import open_engine


@contextmanager
def write_locked(db_url: str, table: str = "post") -> Iterator[None]:
    """Another writer holding the write lock on `table` (SQLite: the whole database), as a
    large poll's transaction does, on either backend."""
    if db_url.startswith("sqlite"):
        holder = sqlite3.connect(sa.make_url(db_url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock; readers still read (WAL)
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # reads still go
            yield
    finally:
        engine.dispose()


def impatient_store(db_url: str) -> Store:
    """A Store that gives up on a held lock after a moment instead of 15 s."""
    engine = open_engine(db_url)
    setting = (
        "PRAGMA busy_timeout = 100" if engine.dialect.name == "sqlite" else "SET lock_timeout = 100"
    )

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(setting)
        cursor.close()
        if engine.dialect.name == "postgresql":
            dbapi_connection.commit()

    sa.event.listen(engine, "connect", impatient)
    engine.dispose()  # the pooled connections were made without it
    return Store(engine)
